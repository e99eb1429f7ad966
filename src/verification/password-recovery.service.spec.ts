import { AuthService } from '../auth/auth.service';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { PasswordPolicy } from '../users/password-policy.service';
import { User } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from '../users/users.service';
import { PasswordRecoveryService } from './password-recovery.service';
import { VerificationService } from './verification.service';

const anna = { id: 'user-1', email: 'anna@example.com', phone: '+79991234567', status: 'active', locale: null } as User & { email: string; phone: string };

describe('PasswordRecoveryService', () => {
  let verification: { issue: jest.Mock; consumeCode: jest.Mock; consumeLink: jest.Mock; peekLink: jest.Mock };
  let users: { findByIdentifier: jest.Mock };
  let usersService: { get: jest.Mock; markVerified: jest.Mock };
  let auth: { resetPassword: jest.Mock; replacePassword: jest.Mock };
  let policy: { check: jest.Mock };
  let service: PasswordRecoveryService;

  beforeEach(() => {
    verification = {
      issue: jest.fn().mockResolvedValue({ retryAfterSeconds: 60, codeExpiresInSeconds: 600 }),
      consumeCode: jest.fn().mockResolvedValue(undefined),
      consumeLink: jest.fn().mockResolvedValue({ userId: anna.id, target: anna.email }),
      peekLink: jest.fn().mockResolvedValue({ userId: anna.id, target: anna.email, expiresAt: new Date() }),
    };
    users = { findByIdentifier: jest.fn().mockResolvedValue(anna) };
    usersService = { get: jest.fn().mockResolvedValue(anna), markVerified: jest.fn().mockResolvedValue(anna) };
    auth = { resetPassword: jest.fn().mockResolvedValue(undefined), replacePassword: jest.fn().mockResolvedValue(undefined) };
    policy = { check: jest.fn() };
    service = new PasswordRecoveryService(
      verification as unknown as VerificationService,
      users as unknown as UsersRepository,
      usersService as unknown as UsersService,
      auth as unknown as AuthService,
      policy as unknown as PasswordPolicy,
      { defaultPhoneRegion: 'RU' } as AppConfig,
    );
  });

  describe('request', () => {
    it('issues a code (and the link) to the normalised e-mail of the account', async () => {
      const link = (token: string) => `https://id.test/${token}`;
      await service.request({ email: '  Anna@Example.COM ' }, { link, locale: 'ru' });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'email', value: 'anna@example.com' });
      expect(verification.issue).toHaveBeenCalledWith({
        user: anna,
        purpose: 'password-reset',
        channel: 'email',
        target: 'anna@example.com',
        code: true,
        link,
        locale: 'ru',
        hideAccountExistence: true,
      });
    });

    it('issues with user: null for an unknown account, so only the cooldown is recorded', async () => {
      users.findByIdentifier.mockResolvedValue(null);
      await service.request({ email: 'nobody@example.com' });

      expect(verification.issue).toHaveBeenCalledWith(expect.objectContaining({ user: null, target: 'nobody@example.com', purpose: 'password-reset' }));
    });

    it('treats a blocked account like an unknown one', async () => {
      users.findByIdentifier.mockResolvedValue({ ...anna, status: 'blocked' });
      await service.request({ email: anna.email });

      expect(verification.issue).toHaveBeenCalledWith(expect.objectContaining({ user: null }));
    });

    it('sends an SMS code to the E.164 phone, never a link', async () => {
      await service.request({ phone: '89991234567' }, { link: (token) => token });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'phone', value: '+79991234567' });
      expect(verification.issue).toHaveBeenCalledWith(expect.objectContaining({ channel: 'sms', target: '+79991234567', link: undefined }));
    });

    it('refuses an invalid phone with InvalidPhone', async () => {
      await expect(service.request({ phone: '12' })).rejects.toMatchObject({ kind: 'InvalidPhone' });
      expect(verification.issue).not.toHaveBeenCalled();
    });
  });

  describe('request by login (a username, e-mail or phone as typed)', () => {
    it('finds the account by username and sends to its e-mail', async () => {
      await service.request({ login: 'Anna' }, { code: false, link: (token) => token });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'username', value: 'Anna' });
      expect(verification.issue).toHaveBeenCalledWith(expect.objectContaining({ user: anna, channel: 'email', target: anna.email, code: false }));
    });

    it('a phone finds the account too, and the message still goes to its e-mail', async () => {
      await service.request({ login: '8 999 123-45-67' }, { code: false, link: (token) => token });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'phone', value: '+79991234567' });
      expect(verification.issue).toHaveBeenCalledWith(expect.objectContaining({ channel: 'email', target: anna.email }));
    });

    it('an unknown login, or an account without an e-mail, is answered like any other (user: null)', async () => {
      users.findByIdentifier.mockResolvedValueOnce(null).mockResolvedValueOnce({ ...anna, email: null });

      await service.request({ login: 'Ghost' });
      await service.request({ login: 'Anna' });

      expect(verification.issue).toHaveBeenNthCalledWith(1, expect.objectContaining({ user: null, target: 'ghost', hideAccountExistence: true }));
      expect(verification.issue).toHaveBeenNthCalledWith(2, expect.objectContaining({ user: null, target: 'anna', hideAccountExistence: true }));
    });
  });

  describe('password change by an e-mailed code (signed in)', () => {
    it('requestChangeCode e-mails a code of the password-change purpose', async () => {
      await service.requestChangeCode(anna as User, 'ru');

      expect(verification.issue).toHaveBeenCalledWith(
        expect.objectContaining({ user: anna, purpose: 'password-change', channel: 'email', target: anna.email, code: true, locale: 'ru' }),
      );
    });

    it('requestChangeCode refuses an account without an e-mail', async () => {
      await expect(service.requestChangeCode({ ...anna, email: null } as User)).rejects.toMatchObject({ kind: 'ContactMissing' });
    });

    it('changeWithCode checks the policy, uses the code, then replaces the password keeping this session', async () => {
      const order: string[] = [];
      policy.check.mockImplementation(() => order.push('policy'));
      verification.consumeCode.mockImplementation(async () => order.push('consume'));
      auth.replacePassword.mockImplementation(async () => order.push('replace'));

      await service.changeWithCode(anna as User, 'session-1', '123456', 'a new long passphrase', 'en');

      expect(order).toEqual(['policy', 'consume', 'replace']);
      expect(verification.consumeCode).toHaveBeenCalledWith({ userId: anna.id, purpose: 'password-change', target: anna.email, code: '123456' });
      expect(auth.replacePassword).toHaveBeenCalledWith(anna, 'a new long passphrase', { keepSessionId: 'session-1', locale: 'en' });
    });

    it('changeWithCode with a refused code changes nothing', async () => {
      verification.consumeCode.mockRejectedValue(new DomainError('InvalidCode', 'no'));

      await expect(service.changeWithCode(anna as User, 'session-1', '000000', 'a new long passphrase')).rejects.toMatchObject({ kind: 'InvalidCode' });
      expect(auth.replacePassword).not.toHaveBeenCalled();
    });
  });

  describe('resetWithCode', () => {
    it('checks the policy, uses the code, resets and marks the address verified', async () => {
      await service.resetWithCode({ email: anna.email }, '123456', 'a new long passphrase', 'en');

      expect(policy.check).toHaveBeenCalledWith('a new long passphrase', anna);
      expect(verification.consumeCode).toHaveBeenCalledWith({ userId: anna.id, purpose: 'password-reset', target: anna.email, code: '123456' });
      expect(auth.resetPassword).toHaveBeenCalledWith(anna, 'a new long passphrase', 'en');
      expect(usersService.markVerified).toHaveBeenCalledWith(anna.id, 'email', anna.email);
    });

    it('refuses a weak password before the code is used', async () => {
      policy.check.mockImplementation(() => {
        throw new DomainError('WeakPassword', 'too common');
      });

      await expect(service.resetWithCode({ email: anna.email }, '123456', 'password1')).rejects.toMatchObject({ kind: 'WeakPassword' });
      expect(verification.consumeCode).not.toHaveBeenCalled();
      expect(auth.resetPassword).not.toHaveBeenCalled();
    });

    it('answers InvalidCode for an unknown account without touching any code', async () => {
      users.findByIdentifier.mockResolvedValue(null);

      await expect(service.resetWithCode({ email: 'nobody@example.com' }, '123456', 'a new long passphrase')).rejects.toMatchObject({ kind: 'InvalidCode' });
      expect(verification.consumeCode).not.toHaveBeenCalled();
    });

    it('refuses a blocked account with AccountBlocked once the code is proven, and resets nothing', async () => {
      users.findByIdentifier.mockResolvedValue({ ...anna, status: 'blocked' });

      await expect(service.resetWithCode({ phone: anna.phone }, '123456', 'a new long passphrase')).rejects.toMatchObject({ kind: 'AccountBlocked' });
      expect(verification.consumeCode).toHaveBeenCalled();
      expect(auth.resetPassword).not.toHaveBeenCalled();
      expect(usersService.markVerified).not.toHaveBeenCalled();
    });

    it('changes nothing when the code is refused', async () => {
      verification.consumeCode.mockRejectedValue(new DomainError('InvalidCode', 'no'));

      await expect(service.resetWithCode({ phone: anna.phone! }, '000000', 'a new long passphrase')).rejects.toMatchObject({ kind: 'InvalidCode' });
      expect(auth.resetPassword).not.toHaveBeenCalled();
      expect(usersService.markVerified).not.toHaveBeenCalled();
    });
  });

  describe('resetWithLink', () => {
    it('peeks, checks the policy, then uses the link', async () => {
      const order: string[] = [];
      verification.peekLink.mockImplementation(async () => (order.push('peek'), { userId: anna.id, target: anna.email }));
      policy.check.mockImplementation(() => order.push('policy'));
      verification.consumeLink.mockImplementation(async () => (order.push('consume'), { userId: anna.id, target: anna.email }));

      await service.resetWithLink('token', 'a new long passphrase');

      expect(order).toEqual(['peek', 'policy', 'consume']);
      expect(auth.resetPassword).toHaveBeenCalledWith(anna, 'a new long passphrase', undefined);
    });

    it('refuses a blocked account with AccountBlocked once the link is proven, and resets nothing', async () => {
      usersService.get.mockResolvedValue({ ...anna, status: 'blocked' });

      await expect(service.resetWithLink('token', 'a new long passphrase')).rejects.toMatchObject({ kind: 'AccountBlocked' });
      expect(verification.consumeLink).toHaveBeenCalled();
      expect(auth.resetPassword).not.toHaveBeenCalled();
    });

    it('leaves the link unused when the password is weak', async () => {
      policy.check.mockImplementation(() => {
        throw new DomainError('WeakPassword', 'too short');
      });

      await expect(service.resetWithLink('token', 'short')).rejects.toMatchObject({ kind: 'WeakPassword' });
      expect(verification.consumeLink).not.toHaveBeenCalled();
    });
  });
});
