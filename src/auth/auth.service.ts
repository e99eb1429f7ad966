import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { appPasswordRequired, DomainError } from '../common/domain-error';
import { classifyIdentifier, LoginIdentifier, normalizeEmail } from '../common/identifiers';
import { Locale } from '../common/locale';
import { SecurityContext, SYSTEM_CONTEXT } from '../common/security-context';
import { Transactions } from '../database/transactions';
import { ContactChanges } from '../credentials/contact-changes.service';
import { CredentialsService } from '../credentials/credentials.service';
import { SecurityNotices } from '../credentials/security-notices.service';
import { User, UserRole, UserStatus } from '../users/user.entity';
import { ProfileChanges, Registration, UsersService } from '../users/users.service';
import { AppPasswords } from '../mfa/app-passwords.service';
import { MfaChallenges, SignedIn, StartedChallenge } from '../mfa/mfa-challenges.service';
import { SessionOptions, SessionsService } from './sessions.service';

export { LOCKOUT } from '../credentials/credentials.service';

export interface SignIn extends SessionOptions {
  /** An e-mail, username or phone as typed, or an identifier a surface already classified. */
  identifier: string | LoginIdentifier;
  password: string;
  /**
   * What the right password of an account with a second factor leads to. `challenge` (/v1): a
   * second step, no tokens yet. `app-password` (the legacy surfaces, whose documents have no
   * second step): such an account signs in only with one of its app passwords, and its account
   * password alone is refused (AppPasswordRequired). Accounts without a second factor sign in with
   * their password either way.
   */
  secondFactor?: 'challenge' | 'app-password';
}

/** A sign-in that opened a session. */
export type SessionOutcome = SignedIn;

/** A right password of an account with a second factor (/v1): the challenge to answer (POST /v1/auth/login/mfa). */
export type SecondFactorOutcome = { kind: 'second-factor' } & StartedChallenge;

/** What a sign-in with the right password leads to; each surface's presenter maps it. */
export type SignInOutcome = SessionOutcome | SecondFactorOutcome;

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly credentials: CredentialsService,
    private readonly contacts: ContactChanges,
    private readonly sessions: SessionsService,
    private readonly transactions: Transactions,
    private readonly notices: SecurityNotices,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly challenges: MfaChallenges,
    private readonly appPasswords: AppPasswords,
    private readonly audit: AuditLog,
  ) {}

  register(registration: Registration, origin?: EventOrigin): Promise<User> {
    return this.credentials.register(registration, origin);
  }

  /**
   * Bootstrap for the first administrator (`npm run cli -- create-admin`): promotes the account with
   * this e-mail when there is one, else creates it with the password.
   */
  async ensureAdministrator(input: { email: string; username?: string; password?: string }): Promise<{ user: User; created: boolean }> {
    const existing = await this.users.findByIdentifier({ kind: 'email', value: normalizeEmail(input.email) });
    // The operator at the console: no actor, no client.
    const operator: EventOrigin = { actorId: null, context: SYSTEM_CONTEXT };
    if (existing) {
      return { user: await this.setRoleAndStatus(existing.id, { role: 'administrator', status: 'active' }, operator), created: false };
    }
    if (!input.password) throw new DomainError('WeakPassword', 'a password is required to create a new account');
    const user = await this.register({ email: input.email, username: input.username, password: input.password, role: 'administrator' }, operator);
    return { user, created: true };
  }

  /**
   * Password sign-in. Unknown accounts cost the same work as known ones, and every failure reads
   * the same, so the answer does not tell whether an account exists. An account with a second
   * factor gets a challenge (`secondFactor: 'challenge'`) or needs an app password (`'app-password'`);
   * its right password then leaves the lockout count alone until the sign-in completes.
   */
  signIn(input: SignIn & { secondFactor: 'app-password' }): Promise<SessionOutcome>;
  signIn(input: SignIn): Promise<SignInOutcome>;
  async signIn({ identifier, password, secondFactor = 'challenge', ...options }: SignIn): Promise<SignInOutcome> {
    const id = typeof identifier === 'string' ? classifyIdentifier(identifier, this.config.defaultPhoneRegion) : identifier;
    const user = id.value ? await this.users.findByIdentifier(id) : null;
    const context: SecurityContext = { ip: options.ip ?? null, userAgent: options.userAgent ?? null, surface: options.surface ?? null };
    if (secondFactor === 'app-password') {
      const appPassword = await this.appPasswords.match(user, password).catch(async (error: unknown) => {
        // Refused during a lockout before the password is even tried: recorded like any locked sign-in.
        if (user && error instanceof DomainError && error.kind === 'AccountLocked') {
          await this.audit.recordAlone({ type: 'sign_in.failed', userId: user.id, actorId: null, context, details: { reason: 'locked' } });
        }
        throw error;
      });
      if (appPassword) {
        // The right app password of a blocked account: refused and recorded like the right password of one, nothing used.
        if (user!.status === 'blocked') {
          await this.audit.recordAlone({ type: 'sign_in.failed', userId: user!.id, actorId: null, context, details: { reason: 'blocked' } });
          throw new DomainError('AccountBlocked', 'this account is blocked');
        }
        await this.appPasswords.use(user!, appPassword, context);
        return this.open(user!, { ...options, amr: ['app-password'], aal: 1, credentialId: appPassword.id });
      }
    }
    if (!(await this.credentials.verifyPassword(user, password, { purpose: 'sign_in', context, settle: false })) || !user) {
      throw new DomainError('InvalidCredentials', 'wrong login or password');
    }
    if (user.status === 'blocked') {
      await this.audit.recordAlone({ type: 'sign_in.failed', userId: user.id, actorId: null, context, details: { reason: 'blocked' } });
      throw new DomainError('AccountBlocked', 'this account is blocked');
    }
    const challenge = secondFactor === 'challenge' ? await this.challenges.startSignIn(user, { remember: options.remember }) : null;
    if (challenge) return { kind: 'second-factor', ...challenge };
    if (secondFactor === 'app-password' && (await this.credentials.hasSecondFactor(user.id))) throw appPasswordRequired();
    await this.credentials.settleSignIn(user.id);
    return this.open(user, { ...options, amr: ['pwd'], aal: 1 });
  }

  private async open(user: User, options: SessionOptions): Promise<SessionOutcome> {
    if (user.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
    return { kind: 'session', user, ...(await this.sessions.start(user, options)) };
  }

  signOut(user: User, sessionId: string, context?: SecurityContext): Promise<void> {
    return this.sessions.revoke(user.id, sessionId, 'logout', { context });
  }

  /** Changes the password after proving the current one (a wrong one counts toward the lockout); every other session ends. */
  async changePassword(
    user: User,
    currentSessionId: string | undefined,
    currentPassword: string,
    newPassword: string,
    locale?: Locale,
    context?: SecurityContext,
  ): Promise<void> {
    await this.credentials.requirePassword(user, currentPassword, { context, sessionId: currentSessionId });
    await this.credentials.setPassword(user, newPassword, { reason: 'changed', keepSessionId: currentSessionId, locale, context });
  }

  /**
   * Profile fields and, optionally, a new password in one request and one transaction (surfaces
   * whose update form carries the password: 001). The password is checked first, so a refused one
   * changes nothing; SPEC §9 rules 1–3 apply to both parts.
   */
  async updateAccount(
    user: User,
    changes: ProfileChanges,
    options: { password?: string; keepSessionId?: string; locale?: Locale; origin?: EventOrigin } = {},
  ): Promise<User> {
    const { password, keepSessionId, locale, origin = {} } = options;
    if (password === undefined) return this.contacts.updateProfile(user, changes, locale, origin);
    const hash = await this.credentials.preparePassword(password, {
      email: user.email,
      username: user.username,
      phone: user.phone,
      ...this.identityOf(changes),
    });
    const updated = await this.transactions.run(async (tx) => {
      const next = await this.users.updateProfile(user, changes, tx);
      await this.contacts.profileChanged(tx, user, next, { ...changes, password: true }, locale, origin);
      await this.credentials.storePassword(tx, user, hash, { reason: 'changed', keepSessionId, locale, context: origin.context, actorId: origin.actorId });
      return next;
    });
    this.notices.deliverSoon();
    return updated;
  }

  /** Administration: blocking also ends every session, so refresh tokens die with the access tokens. */
  async setRoleAndStatus(userId: string, changes: { role?: UserRole; status?: UserStatus }, origin: EventOrigin = {}): Promise<User> {
    const before = await this.users.get(userId);
    return this.transactions.run(async (tx) => {
      const user = await this.users.apply(userId, changes, tx);
      // The actor's own session is not this user's: not recorded.
      const event = { userId, actorId: origin.actorId, context: origin.context };
      if (before.role !== user.role) await this.audit.record(tx, { ...event, type: 'role.changed', details: { from: before.role, to: user.role } });
      if (before.status !== user.status) await this.audit.record(tx, { ...event, type: 'status.changed', details: { from: before.status, to: user.status } });
      if (changes.status === 'blocked')
        await this.sessions.revokeOthers(userId, undefined, 'blocked', tx, { actorId: origin.actorId, context: origin.context });
      return user;
    });
  }

  private identityOf(changes: ProfileChanges): { email?: string; username?: string } {
    const identity: { email?: string; username?: string } = {};
    if (typeof changes.email === 'string') identity.email = changes.email;
    if (typeof changes.username === 'string') identity.username = changes.username;
    return identity;
  }
}
