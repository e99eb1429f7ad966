import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { classifyIdentifier, normalizeEmail, toE164 } from '../common/identifiers';
import { Locale, resolveLocale } from '../common/locale';
import { SecurityContext } from '../common/security-context';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { INVALID_CODE, Issued, VerificationService } from '../verification/verification.service';
import { CredentialsService } from './credentials.service';
import { NO_ACCOUNT } from './credentials.repository';
import { PasswordPolicy } from './password-policy.service';

/** Where a recovery code goes: the account's e-mail or its phone (SMS). */
export type RecoveryAddress = { email: string } | { phone: string | number };

/** An e-mail, username or phone as typed into a sign-in form: the message goes to the account's e-mail. */
export type RecoveryLogin = { login: string };

export interface RecoveryRequest {
  locale?: Locale;
  /** Send a 6-digit code (default true). */
  code?: boolean;
  /** E-mail only: also send a link; the surface decides where it points. */
  link?: (token: string) => string;
}

/**
 * "Forgot password": a code (e-mail or SMS) or an e-mailed link, then a new password; every
 * session ends. Requests answer the same whether or not the account exists (SPEC §6), including
 * the resend cooldown, which is kept per address for unknown accounts too.
 */
@Injectable()
export class PasswordRecoveryService {
  constructor(
    private readonly verification: VerificationService,
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly passwordPolicy: PasswordPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async request(address: RecoveryAddress | RecoveryLogin, { locale, code = true, link }: RecoveryRequest = {}): Promise<Issued> {
    const { kind, target, account } = await this.resolve(address);
    // Blocked accounts are answered like unknown ones: a new password would not let them in.
    const user = account?.status === 'active' ? account : null;
    return this.verification.issue({
      user,
      purpose: 'password-reset',
      channel: kind === 'email' ? 'email' : 'sms',
      target,
      code,
      link: kind === 'email' ? link : undefined,
      locale: resolveLocale(user?.locale, locale),
      hideAccountExistence: true,
    });
  }

  /**
   * Resets with the code sent to `address`. Known and unknown accounts take the same steps (SPEC §9
   * rule 8): the strength of the new password is checked first, then the code (an unknown account's
   * lookup matches no row), and only a proven code lets the comparison with the account's own
   * identifiers refuse the password, leaving the code usable.
   */
  async resetWithCode(address: RecoveryAddress, code: string, password: string, locale?: Locale, context?: SecurityContext): Promise<void> {
    const { kind, target } = this.normalize(address);
    this.passwordPolicy.checkStrength(password);
    const user = await this.users.findByIdentifier({ kind, value: target });
    await this.verification.consumeCode({ userId: user?.id ?? NO_ACCOUNT, purpose: 'password-reset', target, code }, () => {
      // Once the code is proven (a guesser learns nothing): a blocked account is not recovered, and the code stays unused.
      if (user!.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
      this.passwordPolicy.checkAgainstIdentity(password, user!);
    });
    await this.finish(user!, kind, target, password, locale, context);
  }

  /** Seconds until another recovery code may be sent to `address` (0: now). */
  cooldownLeft(address: RecoveryAddress): Promise<number> {
    const { kind, target } = this.normalize(address);
    return this.verification.cooldownLeft('password-reset', kind === 'email' ? 'email' : 'sms', target);
  }

  /** A signed-in user asks for a code to change the password without the current one; it goes to their e-mail. */
  async requestChangeCode(user: User, locale?: Locale): Promise<Issued> {
    if (!user.email) throw new DomainError('ContactMissing', 'the account has no e-mail address');
    return this.verification.issue({
      user,
      purpose: 'password-change',
      channel: 'email',
      target: user.email,
      code: true,
      locale: resolveLocale(user.locale, locale),
    });
  }

  /** Changes the password with a code from `requestChangeCode`; the caller's session stays, every other one ends. */
  async changeWithCode(user: User, sessionId: string, code: string, password: string, locale?: Locale, context?: SecurityContext): Promise<void> {
    this.passwordPolicy.check(password, user);
    if (!user.email) throw new DomainError('InvalidCode', INVALID_CODE);
    await this.verification.consumeCode({ userId: user.id, purpose: 'password-change', target: user.email, code });
    await this.credentials.setPassword(user, password, {
      reason: 'changed',
      keepSessionId: sessionId,
      provenContact: { kind: 'email', address: user.email },
      locale,
      context,
    });
  }

  /**
   * Resets with the e-mailed link's token. A weak password is refused before the link is used; a
   * link to an address the account no longer has is refused (SPEC §9 rule 1).
   */
  async resetWithLink(token: string, password: string, locale?: Locale, context?: SecurityContext): Promise<void> {
    const { userId, target } = await this.verification.peekLink('password-reset', token);
    const user = await this.users.get(userId);
    if (user.email !== target) throw new DomainError('InvalidCode', INVALID_CODE);
    // The link is proven by holding it: a blocked account is not recovered.
    if (user.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
    this.passwordPolicy.check(password, user);
    await this.verification.consumeLink('password-reset', token);
    await this.finish(user, 'email', target, password, locale, context);
  }

  /** Whether a reset link is still good, without using it. */
  async checkResetLink(token: string): Promise<{ expiresAt: Date }> {
    const { expiresAt } = await this.verification.peekLink('password-reset', token);
    return { expiresAt };
  }

  /** The code or link reached `target`, which proves it as well (SPEC §9 rule 2). */
  private async finish(user: User, kind: 'email' | 'phone', target: string, password: string, locale?: Locale, context?: SecurityContext): Promise<void> {
    await this.credentials.setPassword(user, password, { reason: 'reset', provenContact: { kind, address: target }, locale, context });
  }

  /** The address a recovery message goes to, and the account behind it (null when unknown). */
  private async resolve(address: RecoveryAddress | RecoveryLogin): Promise<{ kind: 'email' | 'phone'; target: string; account: User | null }> {
    if (!('login' in address)) {
      const { kind, target } = this.normalize(address);
      return { kind, target, account: await this.users.findByIdentifier({ kind, value: target }) };
    }
    const identifier = classifyIdentifier(address.login, this.config.defaultPhoneRegion);
    const found = identifier.value ? await this.users.findByIdentifier(identifier) : null;
    // Without an e-mail there is nowhere to send the message: answered like an unknown account,
    // with the cooldown kept on what was typed.
    if (!found?.email) return { kind: 'email', target: identifier.value.toLowerCase(), account: null };
    return { kind: 'email', target: found.email, account: found };
  }

  private normalize(address: RecoveryAddress): { kind: 'email' | 'phone'; target: string } {
    if ('email' in address) return { kind: 'email', target: normalizeEmail(address.email) };
    const phone = toE164(address.phone, this.config.defaultPhoneRegion);
    if (!phone) throw new DomainError('InvalidPhone', 'phone must be a valid phone number');
    return { kind: 'phone', target: phone };
  }
}
