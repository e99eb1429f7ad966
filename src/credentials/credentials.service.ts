import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { SessionsService } from '../auth/sessions.service';
import { DomainError } from '../common/domain-error';
import { Locale } from '../common/locale';
import { SecurityContext } from '../common/security-context';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Transactions, Tx } from '../database/transactions';
import { User } from '../users/user.entity';
import { Registration, UsersService } from '../users/users.service';
import { VerificationService } from '../verification/verification.service';
import { CredentialsRepository, FailureRecorded, LockoutPolicy, NO_ACCOUNT } from './credentials.repository';
import { PasswordHasher } from './password-hasher.service';
import { PasswordPolicy } from './password-policy.service';
import { SecurityNotices } from './security-notices.service';

/** SPEC §6: 10 consecutive failures lock for 1 minute, doubling per further failure, at most 15 minutes. */
export const LOCKOUT: LockoutPolicy = { threshold: 10, baseSeconds: 60, maxSeconds: 900 };

/** A contact that a recovery code or link reached (SPEC §9 rule 2). */
export interface ProvenContact {
  kind: 'email' | 'phone';
  address: string;
}

export interface PasswordChange {
  /** `changed`: the caller proved the current password, a code, or holds a token the document trusts; `reset`: a recovery. */
  reason: 'changed' | 'reset';
  /** The caller's session survives a change; a reset ends every session. */
  keepSessionId?: string;
  /** The contact a code or link reached: it is proven now (a reset also detaches the unverified others). */
  provenContact?: ProvenContact;
  locale?: Locale;
  context?: SecurityContext;
  /** An administrator setting another user's password (the audit log's actor). */
  actorId?: string | null;
}

/** Why a password is being checked, for the audit log: a sign-in, or the current password of a change. */
export interface PasswordAttempt extends EventOrigin {
  purpose?: 'sign_in' | 'reauth';
}

/**
 * The one place passwords are proved and set (SPEC §6, §9). Every surface and every recovery sets
 * a password through `setPassword`, which in one transaction stores the hash, voids every
 * outstanding code and link (rule 1), marks a reset's contact proven and detaches the unverified
 * others (rule 2), ends the other sessions, and tells the owner (rule 3). Every wrong password,
 * at sign-in or as the "current password" of a change, counts toward the account lockout (rule 5).
 */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly hasher: PasswordHasher,
    private readonly policy: PasswordPolicy,
    private readonly transactions: Transactions,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly verification: VerificationService,
    private readonly notices: SecurityNotices,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditLog,
  ) {}

  /** A new account and its password, in one transaction. */
  async register({ password, ...profile }: Registration, origin: EventOrigin = {}): Promise<User> {
    const account = this.users.prepareAccount(profile);
    this.policy.check(password, account);
    const hash = await this.hasher.hash(password);
    return this.transactions.run(async (tx) => {
      const user = await this.users.create(account, tx);
      await this.credentials.setPassword(tx, user.id, hash);
      await this.audit.record(tx, { type: 'account.created', userId: user.id, actorId: origin.actorId, context: origin.context, details: { role: user.role } });
      return user;
    });
  }

  /**
   * Whether `password` is the password of `user`. An unknown account (null) runs the same work
   * against a decoy hash and a statement that matches no row, so it answers in the same time.
   * During a lockout it throws AccountLocked, even for the right password; a wrong one counts.
   */
  async verifyPassword(user: User | null, password: string, attempt: PasswordAttempt = {}): Promise<boolean> {
    const credential = await this.credentials.findPassword(user?.id ?? NO_ACCOUNT);
    const lockedFor = credential?.lockedUntil ? Math.ceil((credential.lockedUntil.getTime() - Date.now()) / 1000) : 0;
    if (lockedFor > 0) {
      if (attempt.purpose !== 'reauth') {
        await this.audit.recordAlone({ type: 'sign_in.failed', userId: credential!.userId, actorId: null, context: attempt.context, details: { reason: 'locked' } });
      }
      throw new DomainError('AccountLocked', 'too many failed sign-ins; try again later', { retryAfterSeconds: lockedFor });
    }
    const valid = await this.hasher.verify(credential?.secret, password);
    if (!valid || !credential) {
      await this.credentials.recordFailure(credential?.userId ?? NO_ACCOUNT, LOCKOUT, (tx, failure) => this.recordFailedPassword(tx, user, failure, attempt));
      return false;
    }
    await this.credentials.recordSuccess(credential);
    if (this.hasher.needsRehash(credential.secret!)) await this.credentials.rehash(credential.userId, await this.hasher.hash(password));
    return true;
  }

  /** The current password of a change: a wrong one is WrongPassword and counts toward the lockout. */
  async requirePassword(user: User, password: string, origin: EventOrigin = {}): Promise<void> {
    if (!(await this.verifyPassword(user, password, { ...origin, purpose: 'reauth' }))) throw new DomainError('WrongPassword', 'the current password is wrong');
  }

  /**
   * SPEC §9 rule 4: a sensitive /v1 change needs the current password in the request, or a
   * sign-in to this session within REAUTH_MAX_AGE.
   */
  async requireFreshProof(user: User, authTime: Date, currentPassword: string | undefined, origin: EventOrigin = {}): Promise<void> {
    if (currentPassword !== undefined) return this.requirePassword(user, currentPassword, origin);
    if (Date.now() - authTime.getTime() <= this.config.reauthMaxAge * 1000) return;
    throw new DomainError('ReauthenticationRequired', 'this change needs your current password (currentPassword) or a sign-in within the last few minutes');
  }

  /** Sets a new password with every effect of SPEC §9 rules 1–3, in one transaction. */
  async setPassword(user: User, password: string, change: PasswordChange): Promise<void> {
    this.policy.check(password, user);
    const hash = await this.hasher.hash(password);
    await this.transactions.run((tx) => this.storePassword(tx, user, hash, change));
    this.notices.deliverSoon();
  }

  /** The policy check and hash of `setPassword`, for a caller that stores it with other changes (`storePassword`). */
  async preparePassword(password: string, identity: Pick<User, 'email' | 'username' | 'phone'>): Promise<string> {
    this.policy.check(password, identity);
    return this.hasher.hash(password);
  }

  /** The effects of `setPassword` inside the caller's transaction (`hash` from `preparePassword`). */
  async storePassword(tx: Tx, user: User, hash: string, change: PasswordChange): Promise<void> {
    await this.credentials.setPassword(tx, user.id, hash);
    let current = user;
    let detached: string[] = [];
    const reset = change.reason === 'reset';
    const origin: EventOrigin = { context: change.context, actorId: change.actorId, sessionId: change.keepSessionId };
    if (change.provenContact) ({ current, detached } = await this.proveContact(tx, user, change.provenContact, reset, origin));
    await this.verification.voidAll(tx, user.id);
    const sessionsEnded = await this.sessions.revokeOthers(user.id, reset ? undefined : change.keepSessionId, reset ? 'password_reset' : 'password_changed', tx, origin);
    await this.audit.record(tx, {
      type: reset ? 'password.reset' : 'password.changed',
      userId: user.id,
      actorId: change.actorId,
      sessionId: change.keepSessionId,
      context: change.context,
      details: reset ? { via: change.provenContact?.kind ?? null, sessionsEnded } : { sessionsEnded },
    });
    // What the account had proved before, plus what this change's code or link just proved.
    await this.notices.announce(tx, current, reset ? 'password-reset-done' : 'password-changed', {
      locale: change.locale,
      params: { detached },
    });
  }

  /**
   * SPEC §9 rule 2: the contact a reset reached is proven now, and the other contact goes when it
   * was never verified (someone else may have attached it to take the account back later).
   */
  private async proveContact(tx: Tx, user: User, { kind, address }: ProvenContact, detachOthers: boolean, origin: EventOrigin): Promise<{ current: User; detached: string[] }> {
    let current = await this.users.markVerified(user.id, kind, address, tx);
    const event = { userId: user.id, actorId: origin.actorId, sessionId: origin.sessionId, context: origin.context };
    if (!(kind === 'email' ? user.emailVerifiedAt : user.phoneVerifiedAt)) {
      await this.audit.record(tx, { ...event, type: kind === 'email' ? 'email.verified' : 'phone.verified', details: { via: 'password_reset' } });
    }
    if (!detachOthers) return { current, detached: [] };
    const other = kind === 'email' ? 'phone' : 'email';
    const otherVerified = other === 'email' ? current.emailVerifiedAt : current.phoneVerifiedAt;
    const detached: string[] = [];
    if (current[other] && !otherVerified) {
      detached.push(current[other]!);
      const details = { previousAddress: current[other], newAddress: null, verified: false, reason: 'detached_by_reset' };
      current = await this.users.apply(user.id, { [other]: null }, tx);
      await this.audit.record(tx, { ...event, type: other === 'email' ? 'email.changed' : 'phone.changed', details });
    }
    return { current, detached };
  }

  /** The audit events of a wrong password (in the transaction that counted it), and of the lockout it caused. */
  private async recordFailedPassword(tx: Tx, user: User | null, failure: FailureRecorded | null, attempt: PasswordAttempt): Promise<void> {
    const userId = user?.id ?? null;
    const event = { userId, context: attempt.context, sessionId: attempt.sessionId };
    if (attempt.purpose === 'reauth') await this.audit.record(tx, { ...event, type: 'reauth.failed' });
    else await this.audit.record(tx, { ...event, type: 'sign_in.failed', actorId: null, details: { reason: user ? 'wrong_password' : 'unknown_account' } });
    if (failure?.lockedSeconds) {
      await this.audit.record(tx, { ...event, type: 'account.locked', actorId: null, details: { seconds: failure.lockedSeconds, failures: failure.failures } });
    }
  }
}
