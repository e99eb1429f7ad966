import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { CodeCheck, INVALID_CODE, VerificationService } from '../verification/verification.service';
import { NO_ACCOUNT } from './credentials.repository';
import { CredentialsService } from './credentials.service';
import { PasswordPolicy } from './password-policy.service';
import { PasswordRecoveryService } from './password-recovery.service';

const anna = {
  id: 'user-1',
  username: 'anna',
  email: 'anna.karenina@example.com',
  phone: '+79991234567',
  status: 'active',
  locale: null,
} as User & { email: string; phone: string };
const NEW_PASSWORD = 'a new long passphrase';
/** Strong enough, but the local part of anna's e-mail: refused only once her code is proven. */
const HER_OWN_NAME = 'anna.karenina';

describe('PasswordRecoveryService', () => {
  /** The live codes the fake verification holds: `${userId}|${purpose}|${target}` → code. */
  let codes: Map<string, string>;
  let verification: { issue: jest.Mock; consumeCode: jest.Mock; consumeLink: jest.Mock; peekLink: jest.Mock; cooldownLeft: jest.Mock };
  let users: { findByIdentifier: jest.Mock; get: jest.Mock };
  let credentials: { setPassword: jest.Mock };
  let policy: PasswordPolicy;
  let service: PasswordRecoveryService;

  /** The order the collaborators were called in, by name. */
  const order = (...named: Array<[string, jest.Mock | jest.SpyInstance]>) =>
    named
      .flatMap(([name, mock]) => mock.mock.invocationCallOrder.map((at) => [at, name] as const))
      .sort(([a], [b]) => a - b)
      .map(([, name]) => name);

  beforeEach(() => {
    codes = new Map([
      [`${anna.id}|password-reset|${anna.email}`, '123456'],
      [`${anna.id}|password-reset|${anna.phone}`, '123456'],
      [`${anna.id}|password-change|${anna.email}`, '654321'],
    ]);
    verification = {
      issue: jest.fn().mockResolvedValue({ retryAfterSeconds: 60, codeExpiresInSeconds: 600 }),
      // Like the real one: a wrong code or one of no account is InvalidCode; a right one runs
      // `beforeUse`, which may refuse and leave the code usable, then is used up.
      consumeCode: jest.fn(async ({ userId, purpose, target, code }: CodeCheck, beforeUse?: (target: string) => void) => {
        const key = `${userId}|${purpose}|${target}`;
        if (codes.get(key) !== code) throw new DomainError('InvalidCode', INVALID_CODE);
        beforeUse?.(target!);
        codes.delete(key);
        return target;
      }),
      consumeLink: jest.fn().mockResolvedValue({ userId: anna.id, target: anna.email }),
      peekLink: jest.fn().mockResolvedValue({ userId: anna.id, target: anna.email, expiresAt: new Date() }),
      cooldownLeft: jest.fn().mockResolvedValue(42),
    };
    users = { findByIdentifier: jest.fn().mockResolvedValue(anna), get: jest.fn().mockResolvedValue(anna) };
    credentials = { setPassword: jest.fn().mockResolvedValue(undefined) };
    policy = new PasswordPolicy({ passwordMinLength: 8 });
    jest.spyOn(policy, 'check');
    jest.spyOn(policy, 'checkStrength');
    jest.spyOn(policy, 'checkAgainstIdentity');
    service = new PasswordRecoveryService(
      verification as unknown as VerificationService,
      users as unknown as UsersService,
      credentials as unknown as CredentialsService,
      policy,
      { defaultPhoneRegion: 'RU' } as AppConfig,
    );
  });

  describe('request', () => {
    it('issues a code (and the link) to the normalised e-mail of the account, hiding whether it exists', async () => {
      const link = (token: string) => `https://id.test/${token}`;
      await service.request({ email: '  Anna.Karenina@Example.COM ' }, { link, locale: 'ru' });

      expect(users.findByIdentifier).toHaveBeenCalledWith({ kind: 'email', value: anna.email });
      expect(verification.issue).toHaveBeenCalledWith({
        user: anna,
        purpose: 'password-reset',
        channel: 'email',
        target: anna.email,
        code: true,
        link,
        locale: 'ru',
        hideAccountExistence: true,
      });
    });

    it('issues with user: null for an unknown account, and answers the same', async () => {
      const known = await service.request({ email: anna.email });
      users.findByIdentifier.mockResolvedValue(null);
      const unknown = await service.request({ email: 'nobody@example.com' });

      expect(verification.issue).toHaveBeenLastCalledWith(
        expect.objectContaining({ user: null, target: 'nobody@example.com', purpose: 'password-reset', hideAccountExistence: true }),
      );
      expect(unknown).toEqual(known);
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

    it('cooldownLeft asks for the normalised address', async () => {
      expect(await service.cooldownLeft({ phone: '8 999 123 45 67' })).toBe(42);
      expect(verification.cooldownLeft).toHaveBeenCalledWith('password-reset', 'sms', '+79991234567');
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

  describe('resetWithCode (SPEC §9 rule 8)', () => {
    it('strength, then the code, then the identity check once proven, then the reset that proves the address', async () => {
      await service.resetWithCode({ email: anna.email }, '123456', NEW_PASSWORD, 'en');

      expect(
        order(
          ['strength', jest.mocked(policy.checkStrength)],
          ['consume', verification.consumeCode],
          ['identity', jest.mocked(policy.checkAgainstIdentity)],
          ['set', credentials.setPassword],
        ),
      ).toEqual(['strength', 'consume', 'identity', 'set']);
      expect(verification.consumeCode).toHaveBeenCalledWith(
        { userId: anna.id, purpose: 'password-reset', target: anna.email, code: '123456' },
        expect.any(Function),
      );
      expect(policy.checkAgainstIdentity).toHaveBeenCalledWith(NEW_PASSWORD, anna);
      expect(credentials.setPassword).toHaveBeenCalledWith(anna, NEW_PASSWORD, {
        reason: 'reset',
        provenContact: { kind: 'email', address: anna.email },
        locale: 'en',
      });
    });

    it('by SMS: the E.164 phone is the target and the proven contact', async () => {
      await service.resetWithCode({ phone: '8 (999) 123-45-67' }, '123456', NEW_PASSWORD);

      expect(credentials.setPassword).toHaveBeenCalledWith(
        anna,
        NEW_PASSWORD,
        expect.objectContaining({ reason: 'reset', provenContact: { kind: 'phone', address: anna.phone } }),
      );
    });

    it('refuses a weak password before the code is tried, for known and unknown accounts alike', async () => {
      await expect(service.resetWithCode({ email: anna.email }, '123456', 'password1')).rejects.toMatchObject({ kind: 'WeakPassword' });
      users.findByIdentifier.mockResolvedValue(null);
      await expect(service.resetWithCode({ email: 'nobody@example.com' }, '123456', 'password1')).rejects.toMatchObject({ kind: 'WeakPassword' });

      expect(verification.consumeCode).not.toHaveBeenCalled();
      expect(credentials.setPassword).not.toHaveBeenCalled();
      expect(codes.size).toBe(3);
    });

    it('an unknown account takes the same steps (a code lookup on NO_ACCOUNT) and gets the same InvalidCode', async () => {
      const wrongCode = await service.resetWithCode({ email: anna.email }, '000000', NEW_PASSWORD).catch((e: DomainError) => e);
      users.findByIdentifier.mockResolvedValue(null);
      const unknown = await service.resetWithCode({ email: 'nobody@example.com' }, '123456', NEW_PASSWORD).catch((e: DomainError) => e);

      expect(verification.consumeCode).toHaveBeenLastCalledWith(
        { userId: NO_ACCOUNT, purpose: 'password-reset', target: 'nobody@example.com', code: '123456' },
        expect.any(Function),
      );
      expect(unknown).toMatchObject({ kind: 'InvalidCode', message: wrongCode instanceof Error ? wrongCode.message : 'unexpected success' });
      expect(credentials.setPassword).not.toHaveBeenCalled();
    });

    it('a blocked account: InvalidCode for a wrong code (no oracle), AccountBlocked only once the code is proven, which stays unused', async () => {
      users.findByIdentifier.mockResolvedValue({ ...anna, status: 'blocked' });

      await expect(service.resetWithCode({ email: anna.email }, '000000', NEW_PASSWORD)).rejects.toMatchObject({ kind: 'InvalidCode' });
      await expect(service.resetWithCode({ email: anna.email }, '123456', NEW_PASSWORD)).rejects.toMatchObject({ kind: 'AccountBlocked' });
      expect(codes.get(`${anna.id}|password-reset|${anna.email}`)).toBe('123456');
      expect(credentials.setPassword).not.toHaveBeenCalled();
    });

    it('a password equal to her own identifiers: InvalidCode with a wrong code (no oracle), WeakPassword only with the right one, which stays usable', async () => {
      await expect(service.resetWithCode({ email: anna.email }, '000000', HER_OWN_NAME)).rejects.toMatchObject({ kind: 'InvalidCode' });
      await expect(service.resetWithCode({ email: anna.email }, '123456', HER_OWN_NAME)).rejects.toMatchObject({ kind: 'WeakPassword' });

      expect(codes.get(`${anna.id}|password-reset|${anna.email}`)).toBe('123456');
      expect(credentials.setPassword).not.toHaveBeenCalled();
    });

    it('changes nothing when the code is refused', async () => {
      await expect(service.resetWithCode({ phone: anna.phone }, '000000', NEW_PASSWORD)).rejects.toMatchObject({ kind: 'InvalidCode' });

      expect(credentials.setPassword).not.toHaveBeenCalled();
    });
  });

  describe('resetWithLink', () => {
    it('peeks, checks the whole policy against the account, uses the link, then resets proving the e-mail', async () => {
      await service.resetWithLink('token', NEW_PASSWORD, 'ru');

      expect(
        order(['peek', verification.peekLink], ['policy', jest.mocked(policy.check)], ['consume', verification.consumeLink], ['set', credentials.setPassword]),
      ).toEqual(['peek', 'policy', 'consume', 'set']);
      expect(policy.check).toHaveBeenCalledWith(NEW_PASSWORD, anna);
      expect(credentials.setPassword).toHaveBeenCalledWith(anna, NEW_PASSWORD, {
        reason: 'reset',
        provenContact: { kind: 'email', address: anna.email },
        locale: 'ru',
      });
    });

    it('leaves the link unused when the password is weak or her own name', async () => {
      await expect(service.resetWithLink('token', 'short')).rejects.toMatchObject({ kind: 'WeakPassword' });
      await expect(service.resetWithLink('token', HER_OWN_NAME)).rejects.toMatchObject({ kind: 'WeakPassword' });

      expect(verification.consumeLink).not.toHaveBeenCalled();
      expect(credentials.setPassword).not.toHaveBeenCalled();
    });

    it('refuses a link to an address the account no longer has (SPEC §9 rule 1), leaving it unused', async () => {
      verification.peekLink.mockResolvedValue({ userId: anna.id, target: 'old@example.com', expiresAt: new Date() });

      await expect(service.resetWithLink('token', NEW_PASSWORD)).rejects.toMatchObject({ kind: 'InvalidCode' });
      expect(verification.consumeLink).not.toHaveBeenCalled();
      expect(credentials.setPassword).not.toHaveBeenCalled();
    });

    it('refuses a blocked account with AccountBlocked (holding the link proves it), leaving the link unused', async () => {
      users.get.mockResolvedValue({ ...anna, status: 'blocked' });

      await expect(service.resetWithLink('token', NEW_PASSWORD)).rejects.toMatchObject({ kind: 'AccountBlocked' });
      expect(verification.consumeLink).not.toHaveBeenCalled();
    });
  });

  describe('password change by an e-mailed code (signed in)', () => {
    it('requestChangeCode e-mails a code of the password-change purpose', async () => {
      await service.requestChangeCode(anna, 'ru');

      expect(verification.issue).toHaveBeenCalledWith(
        expect.objectContaining({ user: anna, purpose: 'password-change', channel: 'email', target: anna.email, code: true, locale: 'ru' }),
      );
    });

    it('requestChangeCode refuses an account without an e-mail', async () => {
      await expect(service.requestChangeCode({ ...anna, email: null } as User)).rejects.toMatchObject({ kind: 'ContactMissing' });
    });

    it('changeWithCode checks the policy, uses the code, then changes the password keeping this session', async () => {
      await service.changeWithCode(anna, 'session-1', '654321', NEW_PASSWORD, 'en');

      expect(order(['policy', jest.mocked(policy.check)], ['consume', verification.consumeCode], ['set', credentials.setPassword])).toEqual([
        'policy',
        'consume',
        'set',
      ]);
      expect(verification.consumeCode).toHaveBeenCalledWith({ userId: anna.id, purpose: 'password-change', target: anna.email, code: '654321' });
      expect(credentials.setPassword).toHaveBeenCalledWith(anna, NEW_PASSWORD, {
        reason: 'changed',
        keepSessionId: 'session-1',
        provenContact: { kind: 'email', address: anna.email },
        locale: 'en',
      });
    });

    it('changeWithCode refuses a weak password before the code is used', async () => {
      await expect(service.changeWithCode(anna, 'session-1', '654321', HER_OWN_NAME)).rejects.toMatchObject({ kind: 'WeakPassword' });

      expect(verification.consumeCode).not.toHaveBeenCalled();
    });

    it('changeWithCode with a refused code, or without an e-mail, changes nothing', async () => {
      await expect(service.changeWithCode(anna, 'session-1', '000000', NEW_PASSWORD)).rejects.toMatchObject({ kind: 'InvalidCode' });
      await expect(service.changeWithCode({ ...anna, email: null } as User, 'session-1', '654321', NEW_PASSWORD)).rejects.toMatchObject({
        kind: 'InvalidCode',
      });

      expect(credentials.setPassword).not.toHaveBeenCalled();
    });
  });
});
