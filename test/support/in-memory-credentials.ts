import { DomainError } from '../../src/common/domain-error';
import { Credential } from '../../src/credentials/credential.entity';
import { LockoutPolicy } from '../../src/credentials/credentials.repository';
import { Tx } from '../../src/database/transactions';

/**
 * CredentialsRepository's password rows over a Map keyed by user id, with the contract of its SQL,
 * for unit tests: `setPassword` starts the new password with no failures; `recordFailure` counts
 * one more and, from `threshold` failures on, locks for base × 2^(failures − threshold) seconds, at
 * most `max`; a success clears the failures; an id without a row (NO_ACCOUNT) changes nothing.
 * Stored hashes are `hash:<password>` (pair it with a hasher fake that says so).
 */
export class InMemoryCredentials {
  readonly rows = new Map<string, Credential>();
  private nextId = 1;

  readonly findPassword = jest.fn(async (userId: string): Promise<Credential | null> => {
    const row = this.rows.get(userId);
    return row ? { ...row } : null;
  });

  readonly setPassword = jest.fn(async (_tx: Tx, userId: string, hash: string): Promise<void> => {
    const row = this.rows.get(userId) ?? ({ id: `credential-${this.nextId++}`, userId, type: 'password', lastUsedAt: null } as Credential);
    this.rows.set(userId, { ...row, secret: hash, failedCount: 0, lockedUntil: null });
  });

  readonly rehash = jest.fn(async (userId: string, hash: string): Promise<void> => {
    const row = this.rows.get(userId);
    if (row) row.secret = hash;
  });

  readonly recordFailure = jest.fn(async (userId: string, policy: LockoutPolicy): Promise<void> => {
    const row = this.rows.get(userId);
    if (!row) return;
    row.failedCount += 1;
    if (row.failedCount >= policy.threshold) {
      const seconds = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** Math.min(row.failedCount - policy.threshold, 30));
      row.lockedUntil = new Date(Date.now() + seconds * 1000);
    }
  });

  readonly recordSuccess = jest.fn(async (credential: Credential): Promise<void> => {
    const row = [...this.rows.values()].find((r) => r.id === credential.id);
    if (row) Object.assign(row, { failedCount: 0, lockedUntil: null, lastUsedAt: new Date() });
  });

  readonly recordSignInSuccess = jest.fn(async (userId: string): Promise<void> => {
    const row = this.rows.get(userId);
    if (row) Object.assign(row, { failedCount: 0, lockedUntil: null, lastUsedAt: new Date() });
  });

  /** A stored password row, as a migration or an earlier `setPassword` left it. */
  seed(userId: string, password: string, state: Partial<Credential> = {}): Credential {
    const row = {
      id: `credential-${this.nextId++}`,
      userId,
      type: 'password',
      secret: `hash:${password}`,
      failedCount: 0,
      lockedUntil: null,
      lastUsedAt: null,
      ...state,
    } as Credential;
    this.rows.set(userId, row);
    return row;
  }
}

/** The DomainError `promise` rejects with (and fails the test when it resolves or rejects with anything else). */
export async function caught(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}
