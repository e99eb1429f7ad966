import { AuditLog } from '../audit/audit-log.service';
import { AppConfig } from '../config/app-config';
import { Transactions, Tx } from '../database/transactions';
import { ContactChanges } from '../credentials/contact-changes.service';
import { Credential } from '../credentials/credential.entity';
import { CredentialsRepository, NO_ACCOUNT } from '../credentials/credentials.repository';
import { CredentialsService } from '../credentials/credentials.service';
import { FactorsRepository } from '../credentials/factors.repository';
import { AppPasswords } from '../mfa/app-passwords.service';
import { MfaChallenges, StartedChallenge } from '../mfa/mfa-challenges.service';
import { hashTyped } from '../mfa/one-time-secrets';
import { PasswordHasher } from '../credentials/password-hasher.service';
import { PasswordPolicy } from '../credentials/password-policy.service';
import { SecurityNotices } from '../credentials/security-notices.service';
import { User } from '../users/user.entity';
import { ProfileChanges, UsersService } from '../users/users.service';
import { VerificationService } from '../verification/verification.service';
import { AuthService, LOCKOUT } from './auth.service';
import { SessionsService, SessionTokens } from './sessions.service';
import { caught, InMemoryCredentials } from '../../test/support/in-memory-credentials';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a brand new passphrase';

function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: 'user-1',
    username: 'alice',
    email: 'alice@example.com',
    emailVerifiedAt: NOW,
    phone: null,
    phoneVerifiedAt: null,
    role: 'user',
    status: 'active',
    locale: null,
    ...overrides,
  } as User;
}

/**
 * AuthService over a real CredentialsService: sign-in and password changes are proved by the real
 * lockout and policy code; only storage, hashing, sessions and messages are faked.
 */
describe('AuthService', () => {
  const tx = { name: 'the transaction' } as unknown as Tx;
  const tokens = { session: { id: 'session-new' }, access: { token: 'a', expiresIn: 1, expiresAt: NOW }, refreshToken: 'r' } as SessionTokens;
  let credentials: InMemoryCredentials;
  let hasher: { hash: jest.Mock; verify: jest.Mock; needsRehash: jest.Mock };
  let users: {
    findByIdentifier: jest.Mock;
    updateProfile: jest.Mock;
    get: jest.Mock;
    apply: jest.Mock;
    prepareAccount: jest.Mock;
    create: jest.Mock;
  };
  let contacts: { updateProfile: jest.Mock; profileChanged: jest.Mock };
  let audit: { record: jest.Mock; recordAlone: jest.Mock };
  let sessions: { start: jest.Mock; revoke: jest.Mock; revokeOthers: jest.Mock };
  let transactions: { run: jest.Mock };
  let verification: { voidAll: jest.Mock };
  let notices: { announce: jest.Mock; deliverSoon: jest.Mock };
  /** The account's second factors and app passwords (FactorsRepository's contract). */
  let factors: { hasSecondFactor: jest.Mock; deleteAll: jest.Mock; findAppPassword: jest.Mock; touch: jest.Mock };
  let challenges: { startSignIn: jest.Mock };
  let service: AuthService;

  /** The account findByIdentifier returns, and its stored password. */
  const registered = (user: User | null, state: Partial<Credential> = {}) => {
    users.findByIdentifier.mockResolvedValue(user);
    if (user) credentials.seed(user.id, PASSWORD, state);
  };
  /** What changes when a password is set: nothing of it may happen after a refusal. */
  const effects = () => [credentials.setPassword, transactions.run, verification.voidAll, sessions.revokeOthers, notices.announce, notices.deliverSoon];

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    credentials = new InMemoryCredentials();
    hasher = {
      hash: jest.fn(async (password: string) => `hash:${password}`),
      verify: jest.fn(async (hash: string | null | undefined, password: string) => !!hash && hash === `hash:${password}`),
      needsRehash: jest.fn((_hash: string) => false),
    };
    users = {
      findByIdentifier: jest.fn().mockResolvedValue(null),
      updateProfile: jest.fn(async (user: User, changes: ProfileChanges) => ({ ...user, ...changes })),
      get: jest.fn(async (id: string) => makeUser({ id })),
      apply: jest.fn(async (id: string, changes: object) => makeUser({ id, ...changes })),
      prepareAccount: jest.fn((profile: Partial<User>) => ({ ...profile, role: profile.role ?? 'user' })),
      create: jest.fn(async (account: Partial<User>) => makeUser({ id: 'user-new', ...account })),
    };
    contacts = {
      updateProfile: jest.fn(async (user: User, changes: ProfileChanges) => ({ ...user, ...changes })),
      profileChanged: jest.fn().mockResolvedValue(undefined),
    };
    audit = { record: jest.fn().mockResolvedValue(undefined), recordAlone: jest.fn().mockResolvedValue(undefined) };
    sessions = { start: jest.fn().mockResolvedValue(tokens), revoke: jest.fn().mockResolvedValue(undefined), revokeOthers: jest.fn().mockResolvedValue(0) };
    transactions = { run: jest.fn((work: (tx: Tx) => Promise<unknown>) => work(tx)) };
    verification = { voidAll: jest.fn().mockResolvedValue(undefined) };
    notices = { announce: jest.fn().mockResolvedValue(null), deliverSoon: jest.fn() };
    const config = { defaultPhoneRegion: 'RU', reauthMaxAge: 300 } as AppConfig;
    factors = {
      hasSecondFactor: jest.fn().mockResolvedValue(false),
      deleteAll: jest.fn().mockResolvedValue([]),
      findAppPassword: jest.fn().mockResolvedValue(null),
      touch: jest.fn().mockResolvedValue(undefined),
    };
    challenges = { startSignIn: jest.fn().mockResolvedValue(null) };
    const credentialsService = new CredentialsService(
      credentials as unknown as CredentialsRepository,
      hasher as unknown as PasswordHasher,
      new PasswordPolicy({ passwordMinLength: 8 }),
      transactions as unknown as Transactions,
      users as unknown as UsersService,
      sessions as unknown as SessionsService,
      verification as unknown as VerificationService,
      notices as unknown as SecurityNotices,
      config,
      factors as unknown as FactorsRepository,
      audit as unknown as AuditLog,
    );
    service = new AuthService(
      users as unknown as UsersService,
      credentialsService,
      contacts as unknown as ContactChanges,
      sessions as unknown as SessionsService,
      transactions as unknown as Transactions,
      notices as unknown as SecurityNotices,
      config,
      challenges as unknown as MfaChallenges,
      new AppPasswords(
        factors as unknown as FactorsRepository,
        credentialsService,
        sessions as unknown as SessionsService,
        transactions as unknown as Transactions,
        audit as unknown as AuditLog,
      ),
      audit as unknown as AuditLog,
    );
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('signIn', () => {
    it('looks the account up by the classified identifier', async () => {
      registered(makeUser());

      await service.signIn({ identifier: ' Alice@Example.COM ', password: PASSWORD });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'email', value: 'alice@example.com' });
    });

    it('reads a phone typed the Russian way as E.164', async () => {
      await caught(service.signIn({ identifier: '8 (999) 123-45-67', password: PASSWORD }));

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'phone', value: '+79991234567' });
    });

    it('uses an identifier a surface already classified as is', async () => {
      await caught(service.signIn({ identifier: { kind: 'username', value: '89991234567' }, password: PASSWORD }));

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'username', value: '89991234567' });
    });

    describe('unknown account', () => {
      it('still verifies a password (against no hash) and records a no-op failure, so the timing is the same', async () => {
        await caught(service.signIn({ identifier: 'nobody@example.com', password: PASSWORD }));

        expect(hasher.verify).toHaveBeenCalledTimes(1);
        expect(hasher.verify).toHaveBeenCalledWith(undefined, PASSWORD);
        expect(credentials.recordFailure).toHaveBeenCalledWith(NO_ACCOUNT, LOCKOUT, { also: expect.any(Function) });
      });

      it('an empty identifier looks nothing up but costs the same verify', async () => {
        await caught(service.signIn({ identifier: '   ', password: PASSWORD }));

        expect(users.findByIdentifier).not.toHaveBeenCalled();
        expect(hasher.verify).toHaveBeenCalledTimes(1);
      });

      it('throws InvalidCredentials and starts no session', async () => {
        expect((await caught(service.signIn({ identifier: 'nobody@example.com', password: PASSWORD }))).kind).toBe('InvalidCredentials');
        expect(sessions.start).not.toHaveBeenCalled();
      });
    });

    describe('wrong password', () => {
      it('throws InvalidCredentials with the same message as an unknown account', async () => {
        registered(makeUser());
        const wrongPassword = await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));
        registered(null);
        const unknownAccount = await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(wrongPassword.kind).toBe('InvalidCredentials');
        expect(unknownAccount.kind).toBe('InvalidCredentials');
        expect(wrongPassword.message).toBe(unknownAccount.message);
      });

      it('counts a failure with the lockout policy and starts no session', async () => {
        registered(makeUser());

        await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(credentials.recordFailure).toHaveBeenCalledWith('user-1', LOCKOUT, { also: expect.any(Function) });
        expect(credentials.rows.get('user-1')!.failedCount).toBe(1);
        expect(sessions.start).not.toHaveBeenCalled();
      });

      it('the 10th consecutive failure locks the account: the next attempt is AccountLocked for 60 s', async () => {
        registered(makeUser());
        for (let i = 0; i < 10; i++) {
          expect((await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }))).kind).toBe('InvalidCredentials');
        }

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(60);
      });
    });

    describe('locked account', () => {
      const lockedFor = (ms: number) => ({ failedCount: 10, lockedUntil: new Date(NOW.getTime() + ms) });

      it('throws AccountLocked with the seconds left in details.retryAfterSeconds', async () => {
        registered(makeUser(), lockedFor(90_000));

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(90);
      });

      it('rounds a part second up so retryAfterSeconds is never 0', async () => {
        registered(makeUser(), lockedFor(200));

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(1);
      });

      it('does not sign in with the right password, nor even verify it, nor count the attempt', async () => {
        registered(makeUser(), lockedFor(90_000));

        expect((await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }))).kind).toBe('AccountLocked');

        expect(hasher.verify).not.toHaveBeenCalled();
        expect(sessions.start).not.toHaveBeenCalled();
        expect(credentials.recordSuccess).not.toHaveBeenCalled();
        expect(credentials.recordFailure).not.toHaveBeenCalled();
      });

      it('signs in again once the lock has passed, and clears it', async () => {
        registered(makeUser(), lockedFor(-1000));

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(sessions.start).toHaveBeenCalled();
        expect(credentials.rows.get('user-1')).toMatchObject({ failedCount: 0, lockedUntil: null });
      });
    });

    describe('blocked account', () => {
      it('throws AccountBlocked for the right password', async () => {
        registered(makeUser({ status: 'blocked' }));

        expect((await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }))).kind).toBe('AccountBlocked');
        expect(sessions.start).not.toHaveBeenCalled();
      });

      it('throws InvalidCredentials for a wrong password, so the status is not revealed without it', async () => {
        registered(makeUser({ status: 'blocked' }));

        expect((await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }))).kind).toBe('InvalidCredentials');
      });
    });

    describe('success', () => {
      it('starts a session with the sign-in options and returns it with the user', async () => {
        const user = makeUser();
        registered(user);

        const result = await service.signIn({ identifier: 'alice@example.com', password: PASSWORD, remember: true, userAgent: 'jest', ip: '10.0.0.1' });

        expect(sessions.start).toHaveBeenCalledWith(user, { remember: true, userAgent: 'jest', ip: '10.0.0.1', amr: ['pwd'], aal: 1 });
        expect(result).toEqual({ kind: 'session', user, ...tokens });
      });

      it('resets earlier failures', async () => {
        registered(makeUser(), { failedCount: 3 });

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(credentials.rows.get('user-1')!.failedCount).toBe(0);
      });

      it('rehashes the password when the hash uses outdated parameters', async () => {
        registered(makeUser());
        hasher.needsRehash.mockReturnValue(true);

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(hasher.needsRehash).toHaveBeenCalledWith(`hash:${PASSWORD}`);
        expect(credentials.rehash).toHaveBeenCalledWith('user-1', `hash:${PASSWORD}`);
      });

      it('leaves a current hash alone', async () => {
        registered(makeUser());

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(hasher.hash).not.toHaveBeenCalled();
        expect(credentials.rehash).not.toHaveBeenCalled();
      });
    });

    describe('an account with a second factor, on /v1 (secondFactor: challenge)', () => {
      const challenge: StartedChallenge = {
        challengeId: 'challenge-1',
        methods: ['totp', 'recovery'],
        expiresAt: new Date(NOW.getTime() + 300_000),
        webauthn: null,
      };
      beforeEach(() => {
        challenges.startSignIn.mockResolvedValue(challenge);
        factors.hasSecondFactor.mockResolvedValue(true);
      });

      it('the right password answers the challenge, with "remember me" kept for the session it will open, and opens no session', async () => {
        const user = makeUser();
        registered(user);

        const outcome = await service.signIn({ identifier: 'alice@example.com', password: PASSWORD, remember: true });

        expect(outcome).toEqual({ kind: 'second-factor', ...challenge });
        expect(challenges.startSignIn).toHaveBeenCalledWith(user, { remember: true });
        expect(sessions.start).not.toHaveBeenCalled();
      });

      it('the right password does not reset the failure count (else each round of guessed codes would start afresh)', async () => {
        registered(makeUser(), { failedCount: 7 });

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(credentials.rows.get('user-1')!.failedCount).toBe(7);
      });

      it('a wrong password is InvalidCredentials and makes no challenge', async () => {
        registered(makeUser());

        expect((await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }))).kind).toBe('InvalidCredentials');
        expect(challenges.startSignIn).not.toHaveBeenCalled();
      });

      it('never looks at app passwords', async () => {
        registered(makeUser());
        factors.findAppPassword.mockResolvedValue({ id: 'app-1', userId: 'user-1', type: 'app-password' });

        expect((await caught(service.signIn({ identifier: 'alice@example.com', password: 'abcd-efgh' }))).kind).toBe('InvalidCredentials');
        expect(factors.findAppPassword).not.toHaveBeenCalled();
      });
    });

    describe('legacy surfaces (secondFactor: app-password)', () => {
      const legacy = (password: string) => service.signIn({ identifier: 'alice@example.com', password, secondFactor: 'app-password', userAgent: 'old-app' });

      it('an app password opens a session that remembers it (amr app-password, aal1), and resets the failures, with app_password.used in one transaction', async () => {
        const user = makeUser();
        registered(user, { failedCount: 4 });
        factors.findAppPassword.mockImplementation(async (userId: string, hash: string) =>
          userId === 'user-1' && hash === hashTyped('abcd-efgh-ijkl') ? { id: 'app-1', userId, type: 'app-password', name: 'Old phone' } : null,
        );

        const outcome = await legacy('ABCD efgh-ijkl');

        expect(outcome.kind).toBe('session');
        expect(sessions.start).toHaveBeenCalledWith(user, { userAgent: 'old-app', amr: ['app-password'], aal: 1, credentialId: 'app-1' });
        expect(factors.touch).toHaveBeenCalledWith('app-1', tx);
        expect(credentials.recordSignInSuccess).toHaveBeenCalledWith('user-1', tx);
        expect(audit.record).toHaveBeenCalledWith(tx, {
          type: 'app_password.used',
          userId: 'user-1',
          context: { ip: null, userAgent: 'old-app', surface: null },
          details: { name: 'Old phone' },
        });
        expect(credentials.rows.get('user-1')!.failedCount).toBe(0);
        expect(hasher.verify).not.toHaveBeenCalled();
      });

      it('the account password of an account with a second factor is AppPasswordRequired, and not counted as a failure', async () => {
        registered(makeUser(), { failedCount: 2 });
        factors.hasSecondFactor.mockResolvedValue(true);

        const error = await caught(legacy(PASSWORD));

        expect(error.kind).toBe('AppPasswordRequired');
        expect(error.message).toMatch(/^wrong login or password\. .*app password/);
        expect(sessions.start).not.toHaveBeenCalled();
        expect(challenges.startSignIn).not.toHaveBeenCalled();
        expect(credentials.rows.get('user-1')!.failedCount).toBe(2);
      });

      it('an account without a second factor signs in with its password as before', async () => {
        registered(makeUser());

        expect((await legacy(PASSWORD)).kind).toBe('session');
        expect(sessions.start).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ amr: ['pwd'], aal: 1 }));
      });

      it('a wrong password (and no matching app password) counts once', async () => {
        registered(makeUser());

        expect((await caught(legacy('wrong password'))).kind).toBe('InvalidCredentials');
        expect(credentials.rows.get('user-1')!.failedCount).toBe(1);
      });

      it('a locked account is refused before any app password is looked at', async () => {
        registered(makeUser(), { failedCount: 10, lockedUntil: new Date(NOW.getTime() + 60_000) });

        expect((await caught(legacy('abcd-efgh-ijkl'))).kind).toBe('AccountLocked');
        expect(factors.findAppPassword).not.toHaveBeenCalled();
      });

      it('an unknown account runs the same app-password lookup (against an id that matches nothing)', async () => {
        registered(null);

        await caught(legacy('abcd-efgh-ijkl'));

        expect(factors.findAppPassword).toHaveBeenCalledWith(NO_ACCOUNT, hashTyped('abcd-efgh-ijkl'));
        expect(hasher.verify).toHaveBeenCalledTimes(1);
      });

      it('a blocked account is refused even with its app password: sign_in.failed (blocked), the app password not used', async () => {
        registered(makeUser({ status: 'blocked' }), { failedCount: 3 });
        factors.findAppPassword.mockResolvedValue({ id: 'app-1', userId: 'user-1', type: 'app-password', name: 'Old phone' });

        expect((await caught(legacy('abcd-efgh-ijkl'))).kind).toBe('AccountBlocked');
        expect(sessions.start).not.toHaveBeenCalled();
        expect(factors.touch).not.toHaveBeenCalled();
        expect(credentials.rows.get('user-1')!.failedCount).toBe(3);
        expect(audit.recordAlone).toHaveBeenCalledWith(expect.objectContaining({ type: 'sign_in.failed', userId: 'user-1', details: { reason: 'blocked' } }));
        expect(audit.record).not.toHaveBeenCalled();
      });
    });
  });

  describe('changePassword', () => {
    beforeEach(() => credentials.seed('user-1', PASSWORD));

    it('a wrong current password is WrongPassword, counts a failure, and changes nothing', async () => {
      const error = await caught(service.changePassword(makeUser(), 'session-current', 'wrong password', NEW_PASSWORD));

      expect(error.kind).toBe('WrongPassword');
      expect(credentials.rows.get('user-1')).toMatchObject({ secret: `hash:${PASSWORD}`, failedCount: 1 });
      for (const effect of effects()) expect(effect).not.toHaveBeenCalled();
    });

    it('wrong current passwords lead to the lockout like wrong sign-ins', async () => {
      for (let i = 0; i < 10; i++) await caught(service.changePassword(makeUser(), 'session-current', 'wrong password', NEW_PASSWORD));

      const error = await caught(service.changePassword(makeUser(), 'session-current', PASSWORD, NEW_PASSWORD));

      expect(error.kind).toBe('AccountLocked');
      expect(credentials.rows.get('user-1')!.secret).toBe(`hash:${PASSWORD}`);
    });

    it('sets the new password, keeps the current session, ends the others and announces it in one transaction', async () => {
      const user = makeUser();

      await service.changePassword(user, 'session-current', PASSWORD, NEW_PASSWORD, 'ru');

      expect(credentials.rows.get('user-1')!.secret).toBe(`hash:${NEW_PASSWORD}`);
      expect(transactions.run).toHaveBeenCalledTimes(1);
      expect(sessions.revokeOthers).toHaveBeenCalledWith(
        'user-1',
        'session-current',
        'password_changed',
        tx,
        expect.objectContaining({ sessionId: 'session-current' }),
      );
      expect(verification.voidAll).toHaveBeenCalledWith(tx, 'user-1');
      expect(notices.announce).toHaveBeenCalledWith(tx, user, 'password-changed', { locale: 'ru', params: { detached: [] } });
      expect(notices.deliverSoon).toHaveBeenCalledTimes(1);
    });

    it('a refused new password changes nothing', async () => {
      expect((await caught(service.changePassword(makeUser(), 'session-current', PASSWORD, 'password1'))).kind).toBe('WeakPassword');

      expect(credentials.rows.get('user-1')!.secret).toBe(`hash:${PASSWORD}`);
      for (const effect of effects()) expect(effect).not.toHaveBeenCalled();
    });
  });

  describe('updateAccount', () => {
    beforeEach(() => credentials.seed('user-1', PASSWORD));

    it('without a password: the profile change with its contact rules, nothing else', async () => {
      const user = makeUser();

      const updated = await service.updateAccount(user, { username: 'renamed' }, { locale: 'ru' });

      expect(updated.username).toBe('renamed');
      expect(contacts.updateProfile).toHaveBeenCalledWith(user, { username: 'renamed' }, 'ru', {});
      for (const effect of effects()) expect(effect).not.toHaveBeenCalled();
    });

    it('refuses a weak password before anything changes', async () => {
      expect((await caught(service.updateAccount(makeUser(), { username: 'renamed' }, { password: 'password' }))).kind).toBe('WeakPassword');

      expect(users.updateProfile).not.toHaveBeenCalled();
      expect(contacts.updateProfile).not.toHaveBeenCalled();
      for (const effect of effects()) expect(effect).not.toHaveBeenCalled();
    });

    it('checks the password against the new identifiers too', async () => {
      expect((await caught(service.updateAccount(makeUser(), { email: 'longusername@example.com' }, { password: 'longusername' }))).kind).toBe('WeakPassword');
      expect((await caught(service.updateAccount(makeUser(), { username: 'newname123' }, { password: 'NewName123' }))).kind).toBe('WeakPassword');

      expect(users.updateProfile).not.toHaveBeenCalled();
      expect(transactions.run).not.toHaveBeenCalled();
    });

    it('with a password: profile, contact rules and password in one transaction, keeping the session', async () => {
      const user = makeUser();

      const updated = await service.updateAccount(
        user,
        { email: 'new@example.com' },
        { password: NEW_PASSWORD, keepSessionId: 'session-current', locale: 'en' },
      );

      expect(transactions.run).toHaveBeenCalledTimes(1);
      expect(users.updateProfile).toHaveBeenCalledWith(user, { email: 'new@example.com' }, tx);
      expect(contacts.profileChanged).toHaveBeenCalledWith(tx, user, updated, { email: 'new@example.com', password: true }, 'en', {});
      expect(credentials.setPassword).toHaveBeenCalledWith(tx, 'user-1', `hash:${NEW_PASSWORD}`);
      expect(sessions.revokeOthers).toHaveBeenCalledWith(
        'user-1',
        'session-current',
        'password_changed',
        tx,
        expect.objectContaining({ sessionId: 'session-current' }),
      );
      expect(updated.email).toBe('new@example.com');
      // The notices queued in the transaction go out now, not at the dispatcher's next poll.
      expect(notices.deliverSoon).toHaveBeenCalled();
    });
  });

  describe('ensureAdministrator', () => {
    it('promotes an existing account (and unblocks it)', async () => {
      users.findByIdentifier.mockResolvedValue(makeUser());

      const result = await service.ensureAdministrator({ email: ' Alice@Example.com ' });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'email', value: 'alice@example.com' });
      expect(users.apply).toHaveBeenCalledWith('user-1', { role: 'administrator', status: 'active' }, tx);
      expect(result.created).toBe(false);
    });

    it('creates the account with its password, or refuses without one', async () => {
      expect((await caught(service.ensureAdministrator({ email: 'root@example.com' }))).kind).toBe('WeakPassword');

      const result = await service.ensureAdministrator({ email: 'admin@example.com', password: NEW_PASSWORD });

      expect(result).toMatchObject({ created: true, user: { id: 'user-new', role: 'administrator' } });
      expect(credentials.rows.get('user-new')!.secret).toBe(`hash:${NEW_PASSWORD}`);
    });
  });

  describe('setRoleAndStatus', () => {
    it('blocking ends every session; other changes end none', async () => {
      await service.setRoleAndStatus('user-1', { role: 'executor' });
      expect(sessions.revokeOthers).not.toHaveBeenCalled();

      await service.setRoleAndStatus('user-1', { status: 'blocked' });
      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', undefined, 'blocked', tx, expect.anything());
    });

    it('records role and status changes with the administrator as the actor, in the same transaction', async () => {
      const context = { ip: '203.0.113.9', userAgent: 'admin ui', surface: 'v1' as const };
      await service.setRoleAndStatus('user-1', { role: 'executor', status: 'blocked' }, { actorId: 'admin-1', context });

      expect(audit.record).toHaveBeenCalledWith(tx, {
        type: 'role.changed',
        userId: 'user-1',
        actorId: 'admin-1',
        context,
        details: { from: 'user', to: 'executor' },
      });
      expect(audit.record).toHaveBeenCalledWith(tx, {
        type: 'status.changed',
        userId: 'user-1',
        actorId: 'admin-1',
        context,
        details: { from: 'active', to: 'blocked' },
      });
    });
  });
});
