import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { NotificationsService } from '../notifications/notifications.service';
import { PasswordHasher } from '../users/password-hasher.service';
import { PasswordPolicy } from '../users/password-policy.service';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { AuthService, LOCKOUT } from './auth.service';
import { SessionsService, SessionTokens } from './sessions.service';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const PASSWORD = 'correct horse battery staple';

/** "Hashes" are `hash:<password>`: verify is a string comparison, so tests can reason about it. */
function fakeHasher() {
  return {
    hash: jest.fn(async (password: string) => `hash:${password}`),
    verify: jest.fn(async (hash: string | null | undefined, password: string) => !!hash && hash === `hash:${password}`),
    needsRehash: jest.fn((_hash: string) => false),
  };
}

function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: 'user-1',
    email: 'alice@example.com',
    role: 'user',
    status: 'active',
    passwordHash: `hash:${PASSWORD}`,
    failedLoginCount: 0,
    lockedUntil: null,
    ...overrides,
  } as User;
}

async function caught(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('AuthService', () => {
  const tokens = { session: { id: 'session-new' }, access: { token: 'a', expiresIn: 1, expiresAt: NOW }, refreshToken: 'r' } as SessionTokens;
  let users: {
    findByIdentifier: jest.Mock;
    recordFailedSignIn: jest.Mock;
    resetFailedSignIns: jest.Mock;
    update: jest.Mock;
  };
  let usersService: { setPassword: jest.Mock; updateProfile: jest.Mock };
  let sessions: { start: jest.Mock; revoke: jest.Mock; revokeOthers: jest.Mock };
  let hasher: ReturnType<typeof fakeHasher>;
  let notifications: { send: jest.Mock };
  let service: AuthService;

  /** The user findByIdentifier returns. */
  const registered = (user: User | null) => users.findByIdentifier.mockResolvedValue(user);

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    users = {
      findByIdentifier: jest.fn().mockResolvedValue(null),
      recordFailedSignIn: jest.fn().mockResolvedValue(undefined),
      resetFailedSignIns: jest.fn().mockResolvedValue(undefined),
      update: jest.fn().mockResolvedValue(null),
    };
    usersService = { setPassword: jest.fn().mockResolvedValue(undefined), updateProfile: jest.fn(async (user: User, changes: object) => ({ ...user, ...changes })) };
    sessions = {
      start: jest.fn().mockResolvedValue(tokens),
      revoke: jest.fn().mockResolvedValue(undefined),
      revokeOthers: jest.fn().mockResolvedValue(0),
    };
    hasher = fakeHasher();
    notifications = { send: jest.fn().mockResolvedValue(undefined) };
    service = new AuthService(
      users as unknown as UsersRepository,
      usersService as unknown as UsersService,
      hasher as unknown as PasswordHasher,
      sessions as unknown as SessionsService,
      notifications as unknown as NotificationsService,
      new PasswordPolicy({ passwordMinLength: 8 }),
      { defaultPhoneRegion: 'RU' } as AppConfig,
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
      it('still verifies a password (against no hash) so that the timing is the same', async () => {
        await caught(service.signIn({ identifier: 'nobody@example.com', password: PASSWORD }));

        expect(hasher.verify).toHaveBeenCalledTimes(1);
        expect(hasher.verify).toHaveBeenCalledWith(undefined, PASSWORD);
      });

      it('throws InvalidCredentials', async () => {
        expect((await caught(service.signIn({ identifier: 'nobody@example.com', password: PASSWORD }))).kind).toBe('InvalidCredentials');
      });

      it('records no failed sign-in and starts no session', async () => {
        await caught(service.signIn({ identifier: 'nobody@example.com', password: PASSWORD }));

        expect(users.recordFailedSignIn).not.toHaveBeenCalled();
        expect(sessions.start).not.toHaveBeenCalled();
      });
    });

    describe('wrong password', () => {
      it('throws InvalidCredentials, the same as an unknown account', async () => {
        registered(makeUser());

        const wrongPassword = await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));
        registered(null);
        const unknownAccount = await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(wrongPassword.kind).toBe('InvalidCredentials');
        expect(wrongPassword.message).toBe(unknownAccount.message);
      });

      it('records a failed sign-in with the lockout parameters', async () => {
        registered(makeUser());

        await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(users.recordFailedSignIn).toHaveBeenCalledWith('user-1', 10, 60, 900);
        expect(LOCKOUT).toEqual({ threshold: 10, baseSeconds: 60, maxSeconds: 900 });
      });

      it('starts no session', async () => {
        registered(makeUser());

        await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(sessions.start).not.toHaveBeenCalled();
        expect(users.resetFailedSignIns).not.toHaveBeenCalled();
      });
    });

    describe('locked account', () => {
      const locked = () => makeUser({ failedLoginCount: 10, lockedUntil: new Date(NOW.getTime() + 90_000) });

      it('throws AccountLocked with the seconds left in details.retryAfterSeconds', async () => {
        registered(locked());

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(90);
      });

      it('rounds a part second up so retryAfterSeconds is never 0', async () => {
        registered(makeUser({ lockedUntil: new Date(NOW.getTime() + 200) }));

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }));

        expect(error.kind).toBe('AccountLocked');
        expect(error.details.retryAfterSeconds).toBe(1);
      });

      it('does not sign in with the right password, nor even check it', async () => {
        registered(locked());

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }));

        expect(error.kind).toBe('AccountLocked');
        expect(hasher.verify).not.toHaveBeenCalled();
        expect(sessions.start).not.toHaveBeenCalled();
        expect(users.resetFailedSignIns).not.toHaveBeenCalled();
      });

      it('does not count attempts made during the lockout', async () => {
        registered(locked());

        await caught(service.signIn({ identifier: 'alice@example.com', password: 'wrong password' }));

        expect(users.recordFailedSignIn).not.toHaveBeenCalled();
      });

      it('signs in again once the lock has passed, and clears it', async () => {
        registered(makeUser({ failedLoginCount: 10, lockedUntil: new Date(NOW.getTime() - 1000) }));

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(sessions.start).toHaveBeenCalled();
        expect(users.resetFailedSignIns).toHaveBeenCalledWith('user-1');
      });
    });

    describe('blocked account', () => {
      it('throws AccountBlocked for the right password', async () => {
        registered(makeUser({ status: 'blocked' }));

        const error = await caught(service.signIn({ identifier: 'alice@example.com', password: PASSWORD }));

        expect(error.kind).toBe('AccountBlocked');
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

        expect(sessions.start).toHaveBeenCalledWith(user, { remember: true, userAgent: 'jest', ip: '10.0.0.1' });
        expect(result).toEqual({ user, ...tokens });
      });

      it('does not reset the failure counter when it is already zero', async () => {
        registered(makeUser({ failedLoginCount: 0, lockedUntil: null }));

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(users.resetFailedSignIns).not.toHaveBeenCalled();
      });

      it('resets a non-zero failure counter', async () => {
        registered(makeUser({ failedLoginCount: 3 }));

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(users.resetFailedSignIns).toHaveBeenCalledWith('user-1');
      });

      it('rehashes the password when the hash uses outdated parameters', async () => {
        registered(makeUser());
        hasher.needsRehash.mockReturnValue(true);

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(hasher.needsRehash).toHaveBeenCalledWith(`hash:${PASSWORD}`);
        expect(users.update).toHaveBeenCalledWith('user-1', { passwordHash: `hash:${PASSWORD}` });
      });

      it('leaves a current hash alone', async () => {
        registered(makeUser());

        await service.signIn({ identifier: 'alice@example.com', password: PASSWORD });

        expect(hasher.hash).not.toHaveBeenCalled();
        expect(users.update).not.toHaveBeenCalled();
      });
    });
  });

  describe('changePassword', () => {
    it('throws WrongPassword for a wrong current password and changes and revokes nothing', async () => {
      const error = await caught(service.changePassword(makeUser(), 'session-current', 'wrong password', 'a brand new passphrase'));

      expect(error.kind).toBe('WrongPassword');
      expect(usersService.setPassword).not.toHaveBeenCalled();
      expect(sessions.revokeOthers).not.toHaveBeenCalled();
    });

    it('sets the new password', async () => {
      const user = makeUser();

      await service.changePassword(user, 'session-current', PASSWORD, 'a brand new passphrase');

      expect(usersService.setPassword).toHaveBeenCalledWith(user, 'a brand new passphrase');
    });

    it('revokes every other session of the user, keeping the current one', async () => {
      await service.changePassword(makeUser(), 'session-current', PASSWORD, 'a brand new passphrase');

      expect(sessions.revokeOthers).toHaveBeenCalledTimes(1);
      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', 'session-current', 'password_changed');
    });

    it('e-mails a security notice in the user\'s language, else the request\'s', async () => {
      await service.changePassword(makeUser({ locale: null }), 'session-current', PASSWORD, 'a brand new passphrase', 'ru');
      await service.changePassword(makeUser({ locale: 'en' }), 'session-current', PASSWORD, 'a brand new passphrase', 'ru');

      expect(notifications.send.mock.calls.map(([message]) => [message.to, message.template, message.locale])).toEqual([
        ['alice@example.com', 'password-changed', 'ru'],
        ['alice@example.com', 'password-changed', 'en'],
      ]);
    });

    it('sends no notice to an account without an e-mail, and none when the change is refused', async () => {
      await service.changePassword(makeUser({ email: null }), 'session-current', PASSWORD, 'a brand new passphrase');
      await caught(service.changePassword(makeUser(), 'session-current', 'wrong password', 'a brand new passphrase'));

      expect(notifications.send).not.toHaveBeenCalled();
    });

    it('revokes no session when the new password is refused', async () => {
      usersService.setPassword.mockRejectedValue(new DomainError('WeakPassword', 'password is too common'));

      expect((await caught(service.changePassword(makeUser(), 'session-current', PASSWORD, 'password1'))).kind).toBe('WeakPassword');
      expect(sessions.revokeOthers).not.toHaveBeenCalled();
    });
  });

  describe('updateAccount', () => {
    it('changes the profile only, when no password is sent', async () => {
      const user = makeUser();

      const updated = await service.updateAccount(user, { username: 'renamed' });

      expect(updated.username).toBe('renamed');
      expect(usersService.setPassword).not.toHaveBeenCalled();
      expect(sessions.revokeOthers).not.toHaveBeenCalled();
    });

    it('refuses a weak password before anything changes', async () => {
      const error = await caught(service.updateAccount(makeUser(), { username: 'renamed' }, { password: 'password' }));

      expect(error.kind).toBe('WeakPassword');
      expect(usersService.updateProfile).not.toHaveBeenCalled();
    });

    it('checks the password against the new identifiers too', async () => {
      const error = await caught(service.updateAccount(makeUser(), { email: 'longusername@example.com' }, { password: 'longusername' }));

      expect(error.kind).toBe('WeakPassword');
      expect(usersService.updateProfile).not.toHaveBeenCalled();
    });

    it('with a password: profile first, then the password, ending the other sessions', async () => {
      await service.updateAccount(makeUser(), { username: 'renamed' }, { password: 'a brand new passphrase', keepSessionId: 'session-current' });

      expect(usersService.updateProfile).toHaveBeenCalledTimes(1);
      expect(usersService.setPassword).toHaveBeenCalledWith(expect.objectContaining({ username: 'renamed' }), 'a brand new passphrase');
      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', 'session-current', 'password_changed');
    });
  });

  describe('resetPassword', () => {
    it('sets the password and revokes every session of the user', async () => {
      const user = makeUser();

      await service.resetPassword(user, 'a brand new passphrase');

      expect(usersService.setPassword).toHaveBeenCalledWith(user, 'a brand new passphrase');
      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', undefined, 'password_reset');
      expect(notifications.send).toHaveBeenCalledWith(expect.objectContaining({ template: 'password-reset-done', to: 'alice@example.com' }));
    });

    it('lifts a lockout: the code or link proved the owner', async () => {
      await service.resetPassword(makeUser({ failedLoginCount: 12, lockedUntil: new Date(NOW.getTime() + 60_000) }), 'a brand new passphrase');

      expect(users.resetFailedSignIns).toHaveBeenCalledWith('user-1');
    });
  });
});
