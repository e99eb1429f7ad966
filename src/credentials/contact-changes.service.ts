import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { DomainError } from '../common/domain-error';
import { normalizeEmail } from '../common/identifiers';
import { Locale, resolveLocale } from '../common/locale';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Transactions, Tx } from '../database/transactions';
import { SessionsService } from '../auth/sessions.service';
import { User } from '../users/user.entity';
import { ProfileChanges, UsersService } from '../users/users.service';
import { Issued, VerificationService } from '../verification/verification.service';
import { noticeAddress, SecurityNotices } from './security-notices.service';

/** Why a contact changed, for the audit log. */
export type ContactChangeReason = 'update' | 'confirmed' | 'reverted';

/** Where the "this wasn't me" link of an e-mail change points, whichever surface made the change. */
export const EMAIL_CHANGE_REVERT_PATH = '/v1/auth/email/revert';

/**
 * Changes of the account's e-mail and phone, with SPEC §9 rules 1 and 3: the change voids every
 * outstanding code and link, and the previous verified address hears of it (an e-mail change with a
 * 7-day "this wasn't me" link that restores it). Legacy surfaces change contacts directly, as their
 * documents show; /v1 changes the e-mail in two steps (rule 4): it applies once the new address
 * proved itself with the code or link sent there.
 */
@Injectable()
export class ContactChanges {
  constructor(
    private readonly transactions: Transactions,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly verification: VerificationService,
    private readonly notices: SecurityNotices,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditLog,
  ) {}

  /** Any profile change of any surface; contact changes bring their rules along. */
  async updateProfile(user: User, changes: ProfileChanges, locale?: Locale, origin: EventOrigin = {}): Promise<User> {
    const updated = await this.transactions.run(async (tx) => {
      const next = await this.users.updateProfile(user, changes, tx);
      await this.profileChanged(tx, user, next, changes, locale, origin);
      return next;
    });
    this.notices.deliverSoon();
    return updated;
  }

  /**
   * What every profile change brings along in its transaction: rules 1 and 3 for the contacts, and an
   * audit event when an administrator changed someone else's profile (the field names, never values).
   */
  async profileChanged(tx: Tx, before: User, after: User, changes: object, locale?: Locale, origin: EventOrigin = {}): Promise<void> {
    if (origin.actorId && origin.actorId !== before.id) {
      const fields = Object.entries(changes)
        .filter(([, value]) => value !== undefined)
        .map(([field]) => field)
        .sort();
      await this.audit.record(tx, { type: 'admin.user_updated', userId: before.id, actorId: origin.actorId, context: origin.context, details: { fields } });
    }
    await this.contactsChanged(tx, before, after, locale, origin);
  }

  /** Rules 1 and 3 for whatever `tx` changed between `before` and `after`; each change is an audit event. */
  async contactsChanged(tx: Tx, before: User, after: User, locale?: Locale, origin: EventOrigin = {}, reason: ContactChangeReason = 'update'): Promise<void> {
    const emailChanged = before.email !== after.email;
    const phoneChanged = before.phone !== after.phone;
    if (!emailChanged && !phoneChanged) return;
    const event = { userId: before.id, actorId: origin.actorId, sessionId: origin.sessionId, context: origin.context };
    if (emailChanged) {
      const details = { previousAddress: before.email, newAddress: after.email, verified: !!after.emailVerifiedAt, reason };
      await this.audit.record(tx, { ...event, type: 'email.changed', details });
    }
    if (phoneChanged) {
      const details = { previousAddress: before.phone, newAddress: after.phone, verified: !!after.phoneVerifiedAt, reason };
      await this.audit.record(tx, { ...event, type: 'phone.changed', details });
    }
    await this.verification.voidAll(tx, before.id);
    if (emailChanged) await this.announceEmailChange(tx, before, locale);
    if (phoneChanged) await this.notices.announce(tx, before, 'phone-changed', { locale });
  }

  /**
   * /v1 step one: a code and link go to the new address. An address that belongs to another account
   * gets nothing but the answer is the same, so this is no "is it taken?" probe.
   */
  async requestEmailChange(user: User, email: string, options: { locale?: Locale; link: (token: string) => string }): Promise<Issued> {
    const target = normalizeEmail(email);
    if (target === user.email) throw DomainError.validation([{ field: 'email', message: 'email is already the address of this account' }]);
    const owner = await this.users.findByIdentifier({ kind: 'email', value: target });
    return this.verification.issue({
      user: owner ? null : user,
      requestedBy: user,
      purpose: 'email-change',
      channel: 'email',
      target,
      code: true,
      link: options.link,
      locale: resolveLocale(user.locale, options.locale),
    });
  }

  /** /v1 step two, with the code: the newest address the user asked for. */
  async confirmEmailChange(user: User, code: string, locale?: Locale, origin?: EventOrigin): Promise<User> {
    const target = await this.verification.consumeCode({ userId: user.id, purpose: 'email-change', code });
    return this.applyEmailChange(user.id, target, locale, origin);
  }

  /** /v1 step two, with the link. */
  async confirmEmailChangeLink(token: string, locale?: Locale, origin?: EventOrigin): Promise<User> {
    const { userId, target } = await this.verification.consumeLink('email-change', token);
    return this.applyEmailChange(userId, target, locale, origin);
  }

  /**
   * The "this wasn't me" link: the previous address comes back (verified: it just proved itself),
   * every session ends, and the caller sends a reset link there. When another account took the
   * address in the meantime, only the sessions end (`restored` false: no reset link goes there).
   */
  async revertEmailChange(token: string, origin: EventOrigin = {}): Promise<{ user: User; email: string; restored: boolean }> {
    const { userId, target } = await this.verification.consumeLink('email-change-revert', token);
    const owner = await this.users.findByIdentifier({ kind: 'email', value: target });
    const restored = !owner || owner.id === userId;
    const before = await this.users.get(userId);
    const user = await this.transactions.run(async (tx) => {
      // The address may have gone to another account since: then only the sessions end.
      const next = await this.users.apply(userId, restored ? { email: target, emailVerifiedAt: new Date() } : {}, tx);
      if (next.email !== before.email) {
        const details = { previousAddress: before.email, newAddress: next.email, verified: true, reason: 'reverted' };
        await this.audit.record(tx, { type: 'email.changed', userId, actorId: origin.actorId, context: origin.context, details });
      }
      await this.verification.voidAll(tx, userId);
      await this.sessions.revokeOthers(userId, undefined, 'email_change_reverted', tx, { actorId: origin.actorId, context: origin.context });
      return next;
    });
    return { user, email: target, restored };
  }

  private async applyEmailChange(userId: string, target: string, locale?: Locale, origin?: EventOrigin): Promise<User> {
    const before = await this.users.get(userId);
    const after = await this.transactions.run(async (tx) => {
      const next = await this.users.apply(userId, { email: target, emailVerifiedAt: new Date() }, tx);
      await this.contactsChanged(tx, before, next, locale, origin, 'confirmed');
      return next;
    });
    this.notices.deliverSoon();
    return after;
  }

  /** The e-mail-changed notice; by e-mail it carries the 7-day link that undoes the change. */
  private async announceEmailChange(tx: Tx, before: User, locale?: Locale): Promise<void> {
    const to = noticeAddress(before);
    if (!to) return;
    await this.notices.announce(tx, before, 'email-changed', {
      locale,
      to,
      params: async () => {
        if (to.channel !== 'email') return {};
        const token = await this.verification.createLink(tx, before.id, 'email-change-revert', to.to);
        return {
          link: `${this.config.publicUrl}${EMAIL_CHANGE_REVERT_PATH}?token=${token}`,
          linkMinutes: this.verification.linkMinutes('email-change-revert'),
        };
      },
    });
  }
}
