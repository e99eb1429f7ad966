/**
 * Every failure a domain service reports. Surfaces map `kind` to their own status code and
 * envelope in one table each (api/v1/problem-details.filter.ts, api/legacy/<name>/…filter.ts).
 */
export type DomainErrorKind =
  | 'ValidationFailed'
  | 'MalformedBody'
  | 'Unauthenticated'
  | 'InvalidCredentials'
  | 'InvalidToken'
  | 'InvalidRefreshToken'
  | 'SessionRevoked'
  | 'AccountBlocked'
  | 'AccountLocked'
  | 'Forbidden'
  | 'NotFound'
  | 'UserNotFound'
  | 'EmailTaken'
  | 'UsernameTaken'
  | 'PhoneTaken'
  | 'InvalidPhone'
  | 'InvalidUsername'
  | 'WeakPassword'
  | 'WrongPassword'
  | 'IdentifierRequired'
  | 'RateLimited'
  /** A verification code or link token that is wrong, expired, used or voided (one message for all: no oracle). */
  | 'InvalidCode'
  /** A new code for this target and purpose was sent too recently; `details.retryAfterSeconds` says when. */
  | 'ResendTooSoon'
  /** The e-mail or phone to verify is already verified. */
  | 'AlreadyVerified'
  /** The account has no e-mail or phone to send a code to. */
  | 'ContactMissing'
  /** A sensitive change without fresh proof: the current password, or a recent sign-in (SPEC §9 rule 4). */
  | 'ReauthenticationRequired'
  /** A sensitive change of an account with a second factor, without aal2 within REAUTH_MAX_AGE: step up first. */
  | 'StepUpRequired'
  /** Legacy sign-in of an account with a second factor with its account password: only an app password signs in there. */
  | 'AppPasswordRequired'
  /** A second-step challenge that is unknown, expired, used or out of tries: sign in (or step up) again. */
  | 'MfaChallengeInvalid'
  /** A wrong TOTP code, recovery code or passkey assertion for a live challenge; `details` says nothing more. */
  | 'WrongSecondFactor'
  /** The factor is enrolled already (one authenticator app per account; a passkey registered once). */
  | 'AlreadyEnrolled'
  /** The operation needs a second factor the account does not have (app passwords, step-up). */
  | 'NoSecondFactor'
  /** A passkey registration that did not verify (challenge, origin, relying party or signature). */
  | 'PasskeyRejected'
  /** The database could not be reached in time (pool exhausted or server down): try again shortly. */
  | 'ServiceUnavailable'
  /** A framework-level 4xx (unknown route, wrong method, body too large…); `details.status` keeps its code. */
  | 'HttpError';

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly details: { fields?: FieldError[]; retryAfterSeconds?: number; status?: number } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(fields: FieldError[]): DomainError {
    return new DomainError('ValidationFailed', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
  }
}

/**
 * What every legacy surface adds to its own "invalid credentials" answer when an account with a
 * second factor signs in with its account password (their documents have no second step).
 */
export const APP_PASSWORD_HINT =
  'This account uses two-step verification: sign in here with an app password (create one in your account security settings), not the account password.';

/** The AppPasswordRequired error: the surface's "wrong login or password" and the hint. */
export function appPasswordRequired(): DomainError {
  return new DomainError('AppPasswordRequired', `wrong login or password. ${APP_PASSWORD_HINT}`);
}
