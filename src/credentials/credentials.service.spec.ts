import { AuditLog } from '../audit/audit-log.service';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { Transactions, Tx } from '../database/transactions';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { VerificationService } from '../verification/verification.service';
import { CredentialsRepository, NO_ACCOUNT } from './credentials.repository';
import { CredentialsService, LOCKOUT } from './credentials.service';
import { FactorsRepository } from './factors.repository';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy.service';
import { SecurityNotices } from './security-notices.service';
import { caught, InMemoryCredentials } from '../../test/support/in-memory-credentials';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase';

/** UsersService over a Map: `markVerified` refuses an address the account no longer has, like the real one. */
class InMemoryUsers {
  readonly byId = new Map<string, User>();

  readonly prepareAccount = jest.fn((profile: Partial<User>) => ({ ...profile, role: 'user' }));
  readonly create = jest.fn(async (account: Partial<User>, _tx: Tx) => this.put({ id: 'user-new', ...account } as User));
  readonly markVerified = jest.fn(async (userId: string, kind: 'email' | 'phone', address: string, _tx?: Tx) => {
    const user = this.byId.get(userId)!;
    if (user[kind] !== address) throw new DomainError('InvalidCode', 'the code or link was sent to an address this account no longer has');
    return this.put({ ...user, [kind === 'email' ? 'emailVerifiedAt' : 'phoneVerifiedAt']: new Date() });
  });
  readonly apply = jest.fn(async (userId: string, fields: Partial<User>, _tx?: Tx) => this.put({ ...this.byId.get(userId)!, ...fields }));

  put(user: User): User {
    this.byId.set(user.id, user);
    return { ...user };
  }
}

function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: 'user-1',
    username: 'alice',
    email: 'alice@example.com',
    emailVerifiedAt: new Date('2029-01-01T00:00:00.000Z'),
    phone: '+79991234567',
    phoneVerifiedAt: null,
    role: 'user',
    status: 'active',
    locale: null,
    ...overrides,
  } as User;
}

describe('CredentialsService', () => {
  /** The one transaction object: only `transactions.run` hands it out. */
  const tx = { name: 'the transaction' } as unknown as Tx;
  let credentials: InMemoryCredentials;
  let users: InMemoryUsers;
  let hasher: { hash: jest.Mock; verify: jest.Mock; needsRehash: jest.Mock };
  let transactions: { run: jest.Mock; none: Tx };
  /** Whether the fake transaction is open, and what deliverSoon saw each time. */
  let open: boolean;
  let deliveredWhileOpen: boolean[];
  let sessions: { revokeOthers: jest.Mock };
  let verification: { voidAll: jest.Mock };
  let notices: { announce: jest.Mock; deliverSoon: jest.Mock };
  let factors: { hasSecondFactor: jest.Mock; deleteAll: jest.Mock };
  let audit: { record: jest.Mock; recordAlone: jest.Mock };
  let service: CredentialsService;

  beforeEach(() => {
    audit = { record: jest.fn().mockResolvedValue(undefined), recordAlone: jest.fn().mockResolvedValue(undefined) };
    jest.useFakeTimers({ now: NOW });
    credentials = new InMemoryCredentials();
    users = new InMemoryUsers();
    hasher = {
      hash: jest.fn(async (password: string) => `hash:${password}`),
      verify: jest.fn(async (hash: string | null | undefined, password: string) => !!hash && hash === `hash:${password}`),
      needsRehash: jest.fn((_hash: string) => false),
    };
    open = false;
    deliveredWhileOpen = [];
    transactions = {
      run: jest.fn(async (work: (tx: Tx) => Promise<unknown>) => {
        open = true;
        try {
          return await work(tx);
        } finally {
          open = false;
        }
      }),
      none: { name: 'no transaction' } as unknown as Tx,
    };
    sessions = { revokeOthers: jest.fn().mockResolvedValue(0) };
    verification = { voidAll: jest.fn().mockResolvedValue(undefined) };
    notices = { announce: jest.fn().mockResolvedValue(null), deliverSoon: jest.fn(() => void deliveredWhileOpen.push(open)) };
    factors = { hasSecondFactor: jest.fn().mockResolvedValue(false), deleteAll: jest.fn().mockResolvedValue([]) };
    service = new CredentialsService(
      credentials as unknown as CredentialsRepository,
      hasher as unknown as PasswordHasher,
      new PasswordPolicy({ passwordMinLength: 8 }),
      transactions as unknown as Transactions,
      users as unknown as UsersService,
      sessions as unknown as SessionsService,
      verification as unknown as VerificationService,
      notices as unknown as SecurityNotices,
      { reauthMaxAge: 300 } as AppConfig,
      factors as unknown as FactorsRepository,
      audit as unknown as AuditLog,
    );
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  /** Seconds later on the fake clock. */
  const later = (seconds: number) => jest.setSystemTime(Date.now() + seconds * 1000);
  const row = (userId = 'user-1') => credentials.rows.get(userId)!;

  describe('verifyPassword', () => {
    it('true for the right password, false for a wrong one', async () => {
      credentials.seed('user-1', PASSWORD);

      expect(await service.verifyPassword(makeUser(), PASSWORD)).toBe(true);
      expect(await service.verifyPassword(makeUser(), 'wrong password')).toBe(false);
    });

    it('a wrong password counts one failure with the LOCKOUT policy', async () => {
      credentials.seed('user-1', PASSWORD);

      await service.verifyPassword(makeUser(), 'wrong password');

      expect(credentials.recordFailure).toHaveBeenCalledWith('user-1', LOCKOUT, { also: expect.any(Function) });
      expect(row().failedCount).toBe(1);
      expect(row().lockedUntil).toBeNull();
    });

    it('the LOCKOUT policy is SPEC §6: 10 failures, 1 minute, at most 15 minutes', () => {
      expect(LOCKOUT).toEqual({ threshold: 10, baseSeconds: 60, maxSeconds: 900 });
    });

    it('the right password resets the failures', async () => {
      credentials.seed('user-1', PASSWORD, { failedCount: 7 });

      await service.verifyPassword(makeUser(), PASSWORD);

      expect(credentials.recordSuccess).toHaveBeenCalledTimes(1);
      expect(row().failedCount).toBe(0);
    });

    it('an unknown account runs the same work: a verify against no hash and a failure on NO_ACCOUNT', async () => {
      credentials.seed('user-1', PASSWORD);

      expect(await service.verifyPassword(null, PASSWORD)).toBe(false);

      expect(credentials.findPassword).toHaveBeenCalledWith(NO_ACCOUNT);
      expect(hasher.verify).toHaveBeenCalledTimes(1);
      expect(hasher.verify).toHaveBeenCalledWith(undefined, PASSWORD);
      expect(credentials.recordFailure).toHaveBeenCalledWith(NO_ACCOUNT, LOCKOUT, { also: expect.any(Function) });
      expect(row().failedCount).toBe(0);
      expect(credentials.recordSuccess).not.toHaveBeenCalled();
    });

    it('an account without a password row never verifies, whatever the hasher says', async () => {
      hasher.verify.mockResolvedValue(true);

      expect(await service.verifyPassword(makeUser(), PASSWORD)).toBe(false);
      expect(credentials.recordSuccess).not.toHaveBeenCalled();
    });

    describe('lockout (SPEC §6)', () => {
      const fail = () => service.verifyPassword(makeUser(), 'wrong password');

      it('9 failures do not lock; the 10th locks for 60 s', async () => {
        credentials.seed('user-1', PASSWORD);
        for (let i = 0; i < 9; i++) expect(await fail()).toBe(false);
        expect(await service.verifyPassword(makeUser(), PASSWORD)).toBe(true);

        for (let i = 0; i < 9; i++) await fail();
        expect(row().lockedUntil).toBeNull();
        await fail();

        const error = await caught(fail());
        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(60);
      });

      it('doubles per further failure after the lock passes, capped at 900 s', async () => {
        credentials.seed('user-1', PASSWORD, { failedCount: 9 });
        const seen: number[] = [];
        for (let i = 0; i < 6; i++) {
          await fail();
          const error = await caught(fail());
          expect(error.kind).toBe('AccountLocked');
          seen.push(error.details.retryAfterSeconds!);
          later(error.details.retryAfterSeconds!);
        }

        expect(seen).toEqual([60, 120, 240, 480, 900, 900]);
      });

      it('rounds a part second up, so retryAfterSeconds is never 0', async () => {
        credentials.seed('user-1', PASSWORD, { failedCount: 10, lockedUntil: new Date(NOW.getTime() + 200) });

        const error = await caught(service.verifyPassword(makeUser(), PASSWORD));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(1);
      });

      it('the right password during the lockout is refused without being verified, and nothing is counted', async () => {
        credentials.seed('user-1', PASSWORD, { failedCount: 10, lockedUntil: new Date(NOW.getTime() + 90_000) });

        const error = await caught(service.verifyPassword(makeUser(), PASSWORD));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(90);
        expect(hasher.verify).not.toHaveBeenCalled();
        expect(credentials.recordSuccess).not.toHaveBeenCalled();
        expect(credentials.recordFailure).not.toHaveBeenCalled();
        expect(row().failedCount).toBe(10);
      });

      it('once the lock has passed the right password verifies and clears it', async () => {
        credentials.seed('user-1', PASSWORD, { failedCount: 10, lockedUntil: new Date(NOW.getTime() - 1000) });

        expect(await service.verifyPassword(makeUser(), PASSWORD)).toBe(true);
        expect(row()).toMatchObject({ failedCount: 0, lockedUntil: null });
      });
    });

    describe('rehash', () => {
      it('stores a new hash of the same password when the stored one has outdated parameters', async () => {
        credentials.seed('user-1', PASSWORD);
        hasher.needsRehash.mockReturnValue(true);
        hasher.hash.mockResolvedValue('hash2:new-parameters');

        await service.verifyPassword(makeUser(), PASSWORD);

        expect(hasher.needsRehash).toHaveBeenCalledWith(`hash:${PASSWORD}`);
        expect(hasher.hash).toHaveBeenCalledWith(PASSWORD);
        expect(credentials.rehash).toHaveBeenCalledWith('user-1', 'hash2:new-parameters');
      });

      it('leaves a current hash alone, and never rehashes after a wrong password', async () => {
        credentials.seed('user-1', PASSWORD);
        await service.verifyPassword(makeUser(), PASSWORD);
        hasher.needsRehash.mockReturnValue(true);
        await service.verifyPassword(makeUser(), 'wrong password');

        expect(hasher.hash).not.toHaveBeenCalled();
        expect(credentials.rehash).not.toHaveBeenCalled();
      });
    });
  });

  describe('requirePassword', () => {
    it('passes for the right password', async () => {
      credentials.seed('user-1', PASSWORD);

      await expect(service.requirePassword(makeUser(), PASSWORD)).resolves.toBeUndefined();
    });

    it('throws WrongPassword for a wrong one and counts it toward the lockout', async () => {
      credentials.seed('user-1', PASSWORD);

      expect((await caught(service.requirePassword(makeUser(), 'wrong password'))).kind).toBe('WrongPassword');
      expect(row().failedCount).toBe(1);
    });
  });

  describe('requireFreshProof (SPEC §9 rule 4, REAUTH_MAX_AGE 300 s)', () => {
    beforeEach(() => credentials.seed('user-1', PASSWORD));
    const ago = (seconds: number, aal: 1 | 2 = 1) => ({ authTime: new Date(Date.now() - seconds * 1000), aal });

    it('a sign-in within REAUTH_MAX_AGE is proof enough', async () => {
      await expect(service.requireFreshProof(makeUser(), ago(10), undefined)).resolves.toBeUndefined();
      await expect(service.requireFreshProof(makeUser(), ago(300), undefined)).resolves.toBeUndefined();
      expect(hasher.verify).not.toHaveBeenCalled();
    });

    it('an older sign-in without the current password is ReauthenticationRequired', async () => {
      expect((await caught(service.requireFreshProof(makeUser(), ago(301), undefined))).kind).toBe('ReauthenticationRequired');
    });

    it('the right current password makes an old sign-in enough', async () => {
      await expect(service.requireFreshProof(makeUser(), ago(3600), PASSWORD)).resolves.toBeUndefined();
    });

    it('a wrong current password is WrongPassword even after a fresh sign-in, and counts', async () => {
      expect((await caught(service.requireFreshProof(makeUser(), ago(10), 'wrong password'))).kind).toBe('WrongPassword');
      expect((await caught(service.requireFreshProof(makeUser(), ago(3600), 'wrong password'))).kind).toBe('WrongPassword');
      expect(row().failedCount).toBe(2);
    });

    describe('an account with a second factor (step-up: aal2 within REAUTH_MAX_AGE)', () => {
      beforeEach(() => factors.hasSecondFactor.mockResolvedValue(true));

      it('aal2 within REAUTH_MAX_AGE is proof enough', async () => {
        await expect(service.requireFreshProof(makeUser(), ago(300, 2), undefined)).resolves.toBeUndefined();
        expect(factors.hasSecondFactor).toHaveBeenCalledWith('user-1');
      });

      it('a fresh sign-in with the password alone (aal1) is StepUpRequired', async () => {
        expect((await caught(service.requireFreshProof(makeUser(), ago(10, 1), undefined))).kind).toBe('StepUpRequired');
      });

      it('the right current password does not replace the second factor', async () => {
        expect((await caught(service.requireFreshProof(makeUser(), ago(10, 1), PASSWORD))).kind).toBe('StepUpRequired');
      });

      it('aal2 that is older than REAUTH_MAX_AGE is StepUpRequired', async () => {
        expect((await caught(service.requireFreshProof(makeUser(), ago(301, 2), PASSWORD))).kind).toBe('StepUpRequired');
      });

      it('a wrong current password is still WrongPassword, and counts', async () => {
        expect((await caught(service.requireFreshProof(makeUser(), ago(10, 2), 'wrong password'))).kind).toBe('WrongPassword');
        expect(row().failedCount).toBe(1);
      });
    });
  });

  describe('verifyPassword without settling (a sign-in that still needs its second step)', () => {
    it('leaves the failure count alone on the right password', async () => {
      credentials.seed('user-1', PASSWORD, { failedCount: 7 });
      await expect(service.verifyPassword(makeUser(), PASSWORD, { settle: false })).resolves.toBe(true);
      expect(credentials.recordSuccess).not.toHaveBeenCalled();
      expect(row().failedCount).toBe(7);
    });
  });

  describe('register', () => {
    it('creates the account and its password in one transaction', async () => {
      const user = await service.register({ email: 'new@example.com', password: NEW_PASSWORD });

      expect(transactions.run).toHaveBeenCalledTimes(1);
      expect(users.create).toHaveBeenCalledWith(expect.objectContaining({ email: 'new@example.com' }), tx);
      expect(credentials.setPassword).toHaveBeenCalledWith(tx, user.id, `hash:${NEW_PASSWORD}`);
    });

    it('refuses a weak password, or one equal to the new identifiers, before anything is stored', async () => {
      expect((await caught(service.register({ email: 'new@example.com', password: 'password' }))).kind).toBe('WeakPassword');
      expect((await caught(service.register({ email: 'longusername@example.com', password: 'longusername' }))).kind).toBe('WeakPassword');
      expect(transactions.run).not.toHaveBeenCalled();
      expect(credentials.rows.size).toBe(0);
    });
  });

  describe('setPassword', () => {
    let alice: User;
    beforeEach(() => {
      alice = users.put(makeUser());
      credentials.seed('user-1', PASSWORD, { failedCount: 12, lockedUntil: new Date(NOW.getTime() + 600_000) });
    });

    it('applies every effect in one transaction, each on the transaction given to run', async () => {
      await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset', provenContact: { kind: 'email', address: 'alice@example.com' } });

      expect(transactions.run).toHaveBeenCalledTimes(1);
      expect(credentials.setPassword).toHaveBeenCalledWith(tx, 'user-1', `hash:${NEW_PASSWORD}`);
      expect(users.markVerified).toHaveBeenCalledWith('user-1', 'email', 'alice@example.com', tx);
      expect(users.apply).toHaveBeenCalledWith('user-1', { phone: null }, tx);
      expect(verification.voidAll).toHaveBeenCalledWith(tx, 'user-1');
      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', undefined, 'password_reset', tx, expect.anything());
      expect(notices.announce).toHaveBeenCalledWith(tx, expect.objectContaining({ id: 'user-1' }), 'password-reset-done', expect.anything());
    });

    it('stores the new hash and lifts a lockout: the old password no longer verifies, the new one does', async () => {
      await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset' });

      expect(row()).toMatchObject({ secret: `hash:${NEW_PASSWORD}`, failedCount: 0, lockedUntil: null });
      expect(await service.verifyPassword(alice, PASSWORD)).toBe(false);
      expect(await service.verifyPassword(alice, NEW_PASSWORD)).toBe(true);
    });

    it('delivers the notice once, after the transaction closed', async () => {
      await service.setPassword(alice, NEW_PASSWORD, { reason: 'changed' });

      expect(notices.announce).toHaveBeenCalledTimes(1);
      expect(deliveredWhileOpen).toEqual([false]);
    });

    it('a refused password changes nothing', async () => {
      for (const weak of ['short', 'password1', 'alice@example.com', 'ALICE', '+79991234567']) {
        expect((await caught(service.setPassword(alice, weak, { reason: 'changed', keepSessionId: 'session-1' }))).kind).toBe('WeakPassword');
      }

      expect(transactions.run).not.toHaveBeenCalled();
      expect(hasher.hash).not.toHaveBeenCalled();
      expect(row().secret).toBe(`hash:${PASSWORD}`);
      for (const effect of [
        credentials.setPassword,
        users.markVerified,
        users.apply,
        verification.voidAll,
        sessions.revokeOthers,
        notices.announce,
        notices.deliverSoon,
      ]) {
        expect(effect).not.toHaveBeenCalled();
      }
    });

    it("'changed' keeps the caller's session and ends the others", async () => {
      await service.setPassword(alice, NEW_PASSWORD, { reason: 'changed', keepSessionId: 'session-1', locale: 'ru' });

      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', 'session-1', 'password_changed', tx, expect.anything());
      expect(notices.announce).toHaveBeenCalledWith(tx, alice, 'password-changed', { locale: 'ru', params: { detached: [] } });
    });

    it("'reset' ends every session, even one the caller named", async () => {
      await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset', keepSessionId: 'session-1' });

      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', undefined, 'password_reset', tx, expect.anything());
    });

    it("'reset' deletes the app passwords in the same transaction; a change keeps them", async () => {
      await service.setPassword(alice, NEW_PASSWORD, { reason: 'changed' });
      expect(factors.deleteAll).not.toHaveBeenCalled();

      await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset' });
      expect(factors.deleteAll).toHaveBeenCalledWith(tx, 'user-1', ['app-password']);
    });

    describe('a reset proves only the contact it reached (SPEC §9 rule 2)', () => {
      it('marks that contact verified, detaches the other unverified one, and the notice says so', async () => {
        await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset', provenContact: { kind: 'email', address: 'alice@example.com' }, locale: 'en' });

        const stored = users.byId.get('user-1')!;
        expect(stored.phone).toBeNull();
        expect(stored.emailVerifiedAt).toEqual(NOW);
        expect(notices.announce).toHaveBeenCalledWith(tx, expect.objectContaining({ phone: null, email: 'alice@example.com' }), 'password-reset-done', {
          locale: 'en',
          params: { detached: ['+79991234567'] },
        });
      });

      it('keeps a verified other contact', async () => {
        alice = users.put(makeUser({ phoneVerifiedAt: new Date('2029-06-01T00:00:00.000Z') }));

        await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset', provenContact: { kind: 'email', address: 'alice@example.com' } });

        expect(users.apply).not.toHaveBeenCalled();
        expect(users.byId.get('user-1')!.phone).toBe('+79991234567');
        expect(notices.announce).toHaveBeenCalledWith(tx, expect.anything(), 'password-reset-done', expect.objectContaining({ params: { detached: [] } }));
      });

      it('a reset by SMS detaches an unverified e-mail', async () => {
        alice = users.put(makeUser({ emailVerifiedAt: null, phoneVerifiedAt: null }));

        await service.setPassword(alice, NEW_PASSWORD, { reason: 'reset', provenContact: { kind: 'phone', address: '+79991234567' } });

        expect(users.byId.get('user-1')).toMatchObject({ email: null, phoneVerifiedAt: NOW });
        expect(notices.announce).toHaveBeenCalledWith(
          tx,
          expect.anything(),
          'password-reset-done',
          expect.objectContaining({ params: { detached: ['alice@example.com'] } }),
        );
      });

      it("a 'changed' with a proven contact marks it verified but detaches nothing", async () => {
        await service.setPassword(alice, NEW_PASSWORD, {
          reason: 'changed',
          keepSessionId: 'session-1',
          provenContact: { kind: 'email', address: 'alice@example.com' },
        });

        expect(users.markVerified).toHaveBeenCalledWith('user-1', 'email', 'alice@example.com', tx);
        expect(users.apply).not.toHaveBeenCalled();
        expect(users.byId.get('user-1')!.phone).toBe('+79991234567');
      });

      it('a contact the account no longer has is refused (rule 1), and the transaction fails with it', async () => {
        const error = await caught(service.setPassword(alice, NEW_PASSWORD, { reason: 'reset', provenContact: { kind: 'email', address: 'old@example.com' } }));

        expect(error.kind).toBe('InvalidCode');
        expect(notices.deliverSoon).not.toHaveBeenCalled();
        expect(sessions.revokeOthers).not.toHaveBeenCalled();
      });
    });
  });
});
