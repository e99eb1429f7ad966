/** Where the links /v1 e-mails point (PUBLIC_URL + the /v1 route that takes the token). */
export function v1Links(publicUrl: string) {
  return {
    confirmEmail: (token: string) => `${publicUrl}/v1/auth/email/confirm?token=${token}`,
    resetPassword: (token: string) => `${publicUrl}/v1/auth/password/reset?token=${token}`,
  };
}
