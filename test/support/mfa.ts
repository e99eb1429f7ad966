import { generateSync } from 'otplib';
import { HttpClient } from './http';

type Db = { query: (sql: string, params?: unknown[]) => Promise<any> };

/** The TOTP code of `secret` now, or `steps` time steps (30 s each) away: computed as an authenticator app would. */
export function totpCode(secret: string, steps = 0): string {
  return generateSync({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

/**
 * Waits, if need be, until the clock is at least 3 s away from a TOTP step boundary, for tests
 * whose codes must stay exactly N steps away from "now" while the request travels.
 */
export async function awayFromStepBoundary(): Promise<void> {
  const intoStep = (Date.now() / 1000) % 30;
  if (intoStep < 3) await new Promise((resolve) => setTimeout(resolve, (3 - intoStep) * 1000));
  else if (intoStep > 27) await new Promise((resolve) => setTimeout(resolve, (33 - intoStep) * 1000));
}

/**
 * Forgets which time step the account's TOTP last accepted, so the current code works again
 * (instead of waiting up to 30 s for the next one; a code is otherwise good once).
 */
export async function forgetTotpUse(db: Db, userId: string): Promise<void> {
  await db.query(`UPDATE credentials SET counter = NULL WHERE user_id = $1 AND type = 'totp'`, [userId]);
}

/** Sets up an authenticator app for the signed-in user (a fresh session): its secret and the recovery codes. */
export async function enrolTotp(http: HttpClient, accessToken: string): Promise<{ secret: string; recoveryCodes: string[] }> {
  const started = await http.post('/v1/me/factors/totp', {}, { token: accessToken });
  if (started.status !== 201) throw new Error(`start TOTP: ${started.status} ${started.text}`);
  const secret = started.body.secret as string;
  const confirmed = await http.post('/v1/me/factors/totp/confirm', { code: totpCode(secret) }, { token: accessToken });
  if (confirmed.status !== 200) throw new Error(`confirm TOTP: ${confirmed.status} ${confirmed.text}`);
  return { secret, recoveryCodes: confirmed.body.recoveryCodes };
}

/** Steps the session up with a TOTP code (the next step's, so it never collides with one just used): an aal2 access token. */
export async function stepUpWithTotp(http: HttpClient, accessToken: string, secret: string, steps = 1): Promise<string> {
  const challenge = await http.post('/v1/me/step-up', {}, { token: accessToken });
  if (challenge.status !== 200) throw new Error(`step-up: ${challenge.status} ${challenge.text}`);
  const verified = await http.post('/v1/me/step-up/verify', { challengeId: challenge.body.challengeId, totp: totpCode(secret, steps) }, { token: accessToken });
  if (verified.status !== 200) throw new Error(`step-up verify: ${verified.status} ${verified.text}`);
  return verified.body.accessToken;
}

/** Password, then the challenge answered with a TOTP code: the token pair. */
export async function signInWithTotp(http: HttpClient, login: string, password: string, secret: string, steps = 0) {
  const challenge = await http.post('/v1/auth/login', { login, password });
  if (challenge.status !== 200 || !challenge.body.mfaRequired) throw new Error(`login: ${challenge.status} ${challenge.text}`);
  const signedIn = await http.post('/v1/auth/login/mfa', { challengeId: challenge.body.challengeId, totp: totpCode(secret, steps) });
  if (signedIn.status !== 200) throw new Error(`login/mfa: ${signedIn.status} ${signedIn.text}`);
  return signedIn.body as { accessToken: string; refreshToken: string; sessionId: string };
}

/** Creates an app password with an aal2 token: the password and its id. */
export async function createAppPassword(http: HttpClient, aal2Token: string, name = 'Legacy client'): Promise<{ id: string; password: string }> {
  const created = await http.post('/v1/me/app-passwords', { name }, { token: aal2Token });
  if (created.status !== 201) throw new Error(`app password: ${created.status} ${created.text}`);
  return { id: created.body.id, password: created.body.password };
}
