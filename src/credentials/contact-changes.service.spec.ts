import { AuditLog } from '../audit/audit-log.service';
import { SessionsService } from '../auth/sessions.service';
import { AppConfig } from '../config/app-config';
import { Transactions, Tx } from '../database/transactions';
import { TemplateParams } from '../notifications/templates';
import { User } from '../users/user.entity';
import { ProfileChanges, UsersService } from '../users/users.service';
import { VerificationService } from '../verification/verification.service';
import { ContactChanges, EMAIL_CHANGE_REVERT_PATH } from './contact-changes.service';
import { SecurityNotices } from './security-notices.service';

const VERIFIED = new Date('2029-01-01T00:00:00.000Z');

function makeUser(overrides: Partial<User> = {}): User {
  return {
    id: 'user-1',
    username: 'alice',
    email: 'alice@example.com',
    emailVerifiedAt: VERIFIED,
    phone: '+79991234567',
    phoneVerifiedAt: VERIFIED,
    status: 'active',
    locale: null,
    ...overrides,
  } as User;
}

describe('ContactChanges', () => {
  const tx = { name: 'the transaction' } as unknown as Tx;
  let transactions: { run: jest.Mock };
  let users: { updateProfile: jest.Mock; findByIdentifier: jest.Mock; apply: jest.Mock; get: jest.Mock };
  let sessions: { revokeOthers: jest.Mock };
  let verification: { voidAll: jest.Mock; createLink: jest.Mock; linkMinutes: jest.Mock; issue: jest.Mock; consumeLink: jest.Mock };
  /** What each notice would carry: like SecurityNotices, a params function is built when the notice goes out. */
  let sent: Array<{ tx: Tx; previous: User; notice: string; to?: { channel: string; to: string }; params?: TemplateParams }>;
  let notices: { announce: jest.Mock; deliverSoon: jest.Mock };
  let service: ContactChanges;

  beforeEach(() => {
    transactions = { run: jest.fn((work: (tx: Tx) => Promise<unknown>) => work(tx)) };
    users = {
      // Like UsersService.updateProfile: a changed e-mail or phone is no longer verified.
      updateProfile: jest.fn(async (user: User, changes: ProfileChanges) => ({
        ...user,
        ...changes,
        ...(changes.email !== undefined && changes.email !== user.email ? { emailVerifiedAt: null } : {}),
        ...(changes.phone !== undefined && changes.phone !== user.phone ? { phoneVerifiedAt: null } : {}),
      })),
      findByIdentifier: jest.fn().mockResolvedValue(null),
      apply: jest.fn(async (userId: string, fields: Partial<User>) => makeUser({ id: userId, ...fields })),
      get: jest.fn(async (id: string) => makeUser({ id })),
    };
    sessions = { revokeOthers: jest.fn().mockResolvedValue(0) };
    verification = {
      voidAll: jest.fn().mockResolvedValue(undefined),
      createLink: jest.fn().mockResolvedValue('revert-token'),
      linkMinutes: jest.fn().mockReturnValue(10080),
      issue: jest.fn().mockResolvedValue({ retryAfterSeconds: 60, codeExpiresInSeconds: 600 }),
      consumeLink: jest.fn().mockResolvedValue({ userId: 'user-1', target: 'alice@example.com' }),
    };
    sent = [];
    notices = {
      announce: jest.fn(
        async (
          tx: Tx,
          previous: User,
          notice: string,
          options: { to?: { channel: string; to: string }; params?: TemplateParams | (() => Promise<TemplateParams>) } = {},
        ) => {
          const params = typeof options.params === 'function' ? await options.params() : options.params;
          sent.push({ tx, previous, notice, to: options.to, params });
          return options.to ?? null;
        },
      ),
      deliverSoon: jest.fn(),
    };
    service = new ContactChanges(
      transactions as unknown as Transactions,
      users as unknown as UsersService,
      sessions as unknown as SessionsService,
      verification as unknown as VerificationService,
      notices as unknown as SecurityNotices,
      { publicUrl: 'https://id.example.com' } as AppConfig,
      { record: jest.fn().mockResolvedValue(undefined) } as unknown as AuditLog,
    );
  });

  describe('updateProfile', () => {
    it('an e-mail change voids every secret and tells the previous verified e-mail, with a revert link to it', async () => {
      const alice = makeUser();

      const updated = await service.updateProfile(alice, { email: 'mallory@example.com' }, 'ru');

      expect(updated.email).toBe('mallory@example.com');
      expect(transactions.run).toHaveBeenCalledTimes(1);
      expect(users.updateProfile).toHaveBeenCalledWith(alice, { email: 'mallory@example.com' }, tx);
      expect(verification.voidAll).toHaveBeenCalledWith(tx, 'user-1');
      expect(verification.createLink).toHaveBeenCalledWith(tx, 'user-1', 'email-change-revert', 'alice@example.com');
      expect(notices.announce).toHaveBeenCalledWith(tx, alice, 'email-changed', expect.objectContaining({ locale: 'ru' }));
      expect(sent).toEqual([
        {
          tx,
          previous: alice,
          notice: 'email-changed',
          to: { channel: 'email', to: 'alice@example.com' },
          params: { link: `https://id.example.com${EMAIL_CHANGE_REVERT_PATH}?token=revert-token`, linkMinutes: 10080 },
        },
      ]);
      expect(notices.deliverSoon).toHaveBeenCalledTimes(1);
    });

    it('never tells the new address, nor a previous e-mail that was not verified (then the verified phone hears, without a link)', async () => {
      await service.updateProfile(makeUser({ emailVerifiedAt: null }), { email: 'mallory@example.com' });

      expect(sent).toEqual([expect.objectContaining({ notice: 'email-changed', to: { channel: 'sms', to: '+79991234567' }, params: {} })]);
      expect(verification.createLink).not.toHaveBeenCalled();
    });

    it('a phone change voids every secret and announces phone-changed about the account before the change', async () => {
      const alice = makeUser();

      await service.updateProfile(alice, { phone: '+79990000000' });

      expect(verification.voidAll).toHaveBeenCalledWith(tx, 'user-1');
      expect(notices.announce).toHaveBeenCalledWith(tx, alice, 'phone-changed', { locale: undefined });
      expect(sent.map((notice) => notice.notice)).toEqual(['phone-changed']);
    });

    it('no change of contacts: no void, no notice', async () => {
      await service.updateProfile(makeUser(), { name: 'Alice', username: 'alice2', email: 'alice@example.com' });

      expect(users.updateProfile).toHaveBeenCalledTimes(1);
      expect(verification.voidAll).not.toHaveBeenCalled();
      expect(notices.announce).not.toHaveBeenCalled();
      expect(verification.createLink).not.toHaveBeenCalled();
    });
  });

  describe('requestEmailChange (/v1, two steps)', () => {
    const link = (token: string) => `https://id.example.com/confirm?token=${token}`;

    it('issues a code and link to the new address for this account', async () => {
      const alice = makeUser();

      await service.requestEmailChange(alice, ' New@Example.com ', { link, locale: 'en' });

      expect(verification.issue).toHaveBeenCalledWith({
        user: alice,
        requestedBy: alice,
        purpose: 'email-change',
        channel: 'email',
        target: 'new@example.com',
        code: true,
        link,
        locale: 'en',
      });
    });

    it('an address owned by another account: issued with user: null (no message), and the same answer', async () => {
      const free = await service.requestEmailChange(makeUser(), 'new@example.com', { link });
      users.findByIdentifier.mockResolvedValue(makeUser({ id: 'user-2', email: 'taken@example.com' }));

      const requester = makeUser();
      const taken = await service.requestEmailChange(requester, 'Taken@Example.com', { link });

      expect(users.findByIdentifier).toHaveBeenLastCalledWith({ kind: 'email', value: 'taken@example.com' });
      // The requester's message cap is charged all the same (SPEC §9 rule 5: the same 429 at the cap).
      expect(verification.issue).toHaveBeenLastCalledWith(
        expect.objectContaining({ user: null, requestedBy: requester, purpose: 'email-change', target: 'taken@example.com' }),
      );
      expect(taken).toEqual(free);
    });

    it('the current address of the account is a validation error', async () => {
      await expect(service.requestEmailChange(makeUser(), 'ALICE@example.com', { link })).rejects.toMatchObject({ kind: 'ValidationFailed' });
      expect(verification.issue).not.toHaveBeenCalled();
    });
  });

  describe('revertEmailChange', () => {
    it('restores the previous address as verified, voids secrets and ends every session, in one transaction', async () => {
      const { email } = await service.revertEmailChange('token');

      expect(verification.consumeLink).toHaveBeenCalledWith('email-change-revert', 'token');
      expect(email).toBe('alice@example.com');
      expect(users.apply).toHaveBeenCalledWith('user-1', { email: 'alice@example.com', emailVerifiedAt: expect.any(Date) }, tx);
      expect(verification.voidAll).toHaveBeenCalledWith(tx, 'user-1');
      expect(sessions.revokeOthers).toHaveBeenCalledWith('user-1', undefined, 'email_change_reverted', tx, expect.anything());
    });
  });
});
