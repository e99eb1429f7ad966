import { GOOD_PASSWORD, unique, uniquePhone } from './app';
import { HttpClient } from './http';

export interface SignedInUser {
  id: string;
  email: string;
  username: string;
  phone: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** Registers a fresh user through /v1 and signs in. */
export async function registerAndLogin(http: HttpClient, overrides: Record<string, unknown> = {}): Promise<SignedInUser> {
  const registration = {
    email: `${unique('mail')}@example.com`,
    username: unique('user'),
    phone: uniquePhone(),
    password: GOOD_PASSWORD,
    ...overrides,
  };
  const registered = await http.post('/v1/auth/register', registration);
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${registered.text}`);
  const login = await http.post('/v1/auth/login', { login: registration.email, password: registration.password });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return {
    id: registered.body.id,
    email: registration.email as string,
    username: registration.username as string,
    phone: registered.body.phone,
    password: registration.password as string,
    accessToken: login.body.accessToken,
    refreshToken: login.body.refreshToken,
    sessionId: login.body.sessionId,
  };
}

/** Makes `userId` an administrator directly in the database (what `npm run cli -- create-admin` does for a new account). */
export async function promoteToAdmin(db: { query: (sql: string, params: unknown[]) => Promise<unknown> }, userId: string): Promise<void> {
  await db.query(`UPDATE users SET role = 'administrator' WHERE id = $1`, [userId]);
}

/** The payload of a JWT, unverified (tests only). */
export function jwtPayload(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Marks the user's e-mail and/or phone as verified directly in the database (what a confirmed code does). */
export async function markContactsVerified(
  db: { query: (sql: string, params: unknown[]) => Promise<unknown> },
  userId: string,
  which: { email?: boolean; phone?: boolean } = { email: true },
): Promise<void> {
  if (which.email) await db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [userId]);
  if (which.phone) await db.query(`UPDATE users SET phone_verified_at = now() WHERE id = $1`, [userId]);
}
