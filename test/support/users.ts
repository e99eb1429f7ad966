import { INestApplicationContext } from '@nestjs/common';
import { SessionsService } from '../../src/auth/sessions.service';
import { User } from '../../src/users/user.entity';
import { CredentialsRepository } from '../../src/credentials/credentials.repository';
import { PasswordHasher } from '../../src/credentials/password-hasher.service';
import { Transactions } from '../../src/database/transactions';
import { UsersService } from '../../src/users/users.service';
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

export interface QuickUser {
  id: string;
  email: string;
  phone: string;
  accessToken: string;
  sessionId: string;
}

/** GOOD_PASSWORD's argon2 hash, computed once per app. */
const passwordHashes = new WeakMap<INestApplicationContext, Promise<string>>();

/**
 * A fresh user (password GOOD_PASSWORD) with a live session, made through the app's own
 * repository and session service instead of HTTP: no argon2 work per user, so a sweep can give
 * every request a user and token of its own. For tests of other things than registration and sign-in.
 */
export async function quickUser(app: INestApplicationContext, overrides: Partial<User> = {}): Promise<QuickUser> {
  let passwordHash = passwordHashes.get(app);
  if (!passwordHash) {
    passwordHash = app.get(PasswordHasher).hash(GOOD_PASSWORD);
    passwordHashes.set(app, passwordHash);
  }
  const hash = await passwordHash;
  const user = await app.get(Transactions).run(async (tx) => {
    const created = await app
      .get(UsersService)
      .create({ email: `${unique('quick')}@example.com`, username: unique('quick'), phone: uniquePhone(), role: 'user', ...overrides }, tx);
    await app.get(CredentialsRepository).setPassword(tx, created.id, hash);
    return created;
  });
  const { session, access } = await app.get(SessionsService).start(user);
  return { id: user.id, email: user.email!, phone: user.phone!, accessToken: access.token, sessionId: session.id };
}
