import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { DomainError } from '../common/domain-error';
import { Transactions } from '../database/transactions';
import { Locale, resolveLocale } from '../common/locale';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { Issued, VerificationService } from './verification.service';

export interface EmailVerificationRequest {
  locale?: Locale;
  /** Send a 6-digit code (default true). */
  code?: boolean;
  /** Also send a link; the surface decides where it points. */
  link?: (token: string) => string;
}

/** Proving the account's e-mail (code or link) and phone (SMS code): sets emailVerifiedAt / phoneVerifiedAt. */
@Injectable()
export class ContactVerificationService {
  constructor(
    private readonly verification: VerificationService,
    private readonly users: UsersService,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  requestEmail(user: User, { locale, code = true, link }: EmailVerificationRequest = {}): Promise<Issued> {
    if (!user.email) throw new DomainError('ContactMissing', 'the account has no e-mail address');
    if (user.emailVerifiedAt) throw new DomainError('AlreadyVerified', 'the e-mail address is already verified');
    return this.verification.issue({
      user,
      purpose: 'email-verify',
      channel: 'email',
      target: user.email,
      code,
      link,
      locale: resolveLocale(user.locale, locale),
    });
  }

  /**
   * After a registration: one message with a code and/or link, if the account has an e-mail. A
   * cooldown left by a deleted account with the same address, or a spent message budget, only
   * means no new message: the registration stands.
   */
  async welcome(user: User, request: EmailVerificationRequest): Promise<void> {
    if (!user.email || user.emailVerifiedAt) return;
    try {
      await this.requestEmail(user, request);
    } catch (error) {
      if (!(error instanceof DomainError && (error.kind === 'ResendTooSoon' || error.kind === 'RateLimited'))) throw error;
    }
  }

  async confirmEmailCode(user: User, code: string, origin?: EventOrigin): Promise<User> {
    if (!user.email) throw new DomainError('ContactMissing', 'the account has no e-mail address');
    await this.verification.consumeCode({ userId: user.id, purpose: 'email-verify', target: user.email, code });
    return this.markVerified(user.id, 'email', user.email, 'code', origin);
  }

  /** The e-mailed link: proves the address it was sent to, if the account still has it. */
  async confirmEmailLink(token: string, origin?: EventOrigin): Promise<User> {
    const { userId, target } = await this.verification.consumeLink('email-verify', token);
    return this.markVerified(userId, 'email', target, 'link', origin);
  }

  requestPhone(user: User, locale?: Locale): Promise<Issued> {
    if (!user.phone) throw new DomainError('ContactMissing', 'the account has no phone number');
    if (user.phoneVerifiedAt) throw new DomainError('AlreadyVerified', 'the phone number is already verified');
    return this.verification.issue({
      user,
      purpose: 'phone-verify',
      channel: 'sms',
      target: user.phone,
      code: true,
      locale: resolveLocale(user.locale, locale),
    });
  }

  async confirmPhoneCode(user: User, code: string, origin?: EventOrigin): Promise<User> {
    if (!user.phone) throw new DomainError('ContactMissing', 'the account has no phone number');
    await this.verification.consumeCode({ userId: user.id, purpose: 'phone-verify', target: user.phone, code });
    return this.markVerified(user.id, 'phone', user.phone, 'code', origin);
  }

  /** The proof and its audit event, in one transaction. */
  private markVerified(userId: string, kind: 'email' | 'phone', address: string, via: 'code' | 'link', origin: EventOrigin = {}): Promise<User> {
    return this.transactions.run(async (tx) => {
      const user = await this.users.markVerified(userId, kind, address, tx);
      await this.audit.record(tx, {
        type: kind === 'email' ? 'email.verified' : 'phone.verified',
        userId,
        sessionId: origin.sessionId,
        context: origin.context,
        details: { via },
      });
      return user;
    });
  }
}
