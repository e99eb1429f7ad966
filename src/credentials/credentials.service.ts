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
import { removalEvents } from './factor-events';
import { FactorsRepository } from './factors.repository';
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

/** How fresh a session's proof is: when it last proved who its user is, and at which assurance level (1 or 2). */
export interface ProofOfSession {
  authTime: Date;
  aal: 1 | 2;
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

/** How the audit log names a second-factor method (`challenge.*` details `method`): the `amr` value it gives. */
export type SecondFactorEventMethod = 'otp' | 'webauthn' | 'recovery';

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
    private readonly factors: FactorsRepository,
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
   * `settle: false` leaves the failure count alone on success: a sign-in that still needs its second
   * step is not a success yet (else a known password would reset the lockout before each round of
   * guessed codes); `settleSignIn` ends it.
   */
  async verifyPassword(user: User | null, password: string, attempt: PasswordAttempt & { settle?: boolean } = {}): Promise<boolean> {
    const credential = await this.credentials.findPassword(user?.id ?? NO_ACCOUNT);
    const lockedFor = credential?.lockedUntil ? Math.ceil((credential.lockedUntil.getTime() - Date.now()) / 1000) : 0;
    if (lockedFor > 0) {
      if (attempt.purpose !== 'reauth') {
        await this.audit.recordAlone({
          type: 'sign_in.failed',
          userId: credential!.userId,
          actorId: null,
          context: attempt.context,
          details: { reason: 'locked' },
        });
      }
      this.refuseWhileLocked(credential!.lockedUntil);
    }
    const valid = await this.hasher.verify(credential?.secret, password);
    if (!valid || !credential) {
      await this.credentials.recordFailure(credential?.userId ?? NO_ACCOUNT, LOCKOUT, {
        also: (tx, failure) => this.recordFailedPassword(tx, user, failure, attempt),
      });
      return false;
    }
    if (attempt.settle ?? true) await this.credentials.recordSuccess(credential);
    if (this.hasher.needsRehash(credential.secret!)) await this.credentials.rehash(credential.userId, await this.hasher.hash(password));
    return true;
  }

  /** AccountLocked while the account is locked (SPEC §6), whatever secret comes with the attempt; inside `tx` when given. */
  async assertNotLocked(userId: string, tx?: Tx): Promise<void> {
    this.refuseWhileLocked((await this.credentials.findPassword(userId, tx))?.lockedUntil ?? null);
  }

  /**
   * A wrong answer to a second-factor challenge, in the transaction that spends the challenge's try:
   * it counts toward the same lockout as a wrong password, and its `challenge.failed` event (and
   * `account.locked` when it locked the account) are written in that transaction too. Nobody was
   * proven: no actor.
   */
  recordSecondFactorFailure(userId: string, tx: Tx, method: SecondFactorEventMethod, origin: EventOrigin = {}): Promise<void> {
    return this.credentials.recordFailure(userId, LOCKOUT, {
      within: tx,
      also: async (inTx, failure) => {
        const event = { userId, actorId: null, sessionId: origin.sessionId, context: origin.context };
        await this.audit.record(inTx, { ...event, type: 'challenge.failed', details: { method } });
        if (failure?.lockedSeconds) {
          await this.audit.record(inTx, { ...event, type: 'account.locked', details: { seconds: failure.lockedSeconds, failures: failure.failures } });
        }
      },
    });
  }

  /** The sign-in is complete (password and, when the account has one, its second step): the failures start over. */
  settleSignIn(userId: string, tx?: Tx): Promise<void> {
    return this.credentials.recordSignInSuccess(userId, tx);
  }

  /** Whether the account has a second factor (TOTP or passkey). */
  hasSecondFactor(userId: string): Promise<boolean> {
    return this.factors.hasSecondFactor(userId);
  }

  private refuseWhileLocked(lockedUntil: Date | null): void {
    const lockedFor = lockedUntil ? Math.ceil((lockedUntil.getTime() - Date.now()) / 1000) : 0;
    if (lockedFor > 0) {
      throw new DomainError('AccountLocked', 'too many failed sign-ins; try again later', { retryAfterSeconds: lockedFor });
    }
  }

  /** The current password of a change: a wrong one is WrongPassword and counts toward the lockout. */
  async requirePassword(user: User, password: string, origin: EventOrigin = {}): Promise<void> {
    if (!(await this.verifyPassword(user, password, { ...origin, purpose: 'reauth' }))) throw new DomainError('WrongPassword', 'the current password is wrong');
  }

  /**
   * SPEC §9 rule 4: a sensitive /v1 change needs the current password in the request, or a
   * sign-in to this session within REAUTH_MAX_AGE. An account with a second factor needs more:
   * aal2 within REAUTH_MAX_AGE (a sign-in with its second step, or a step-up, that recent); the
   * password alone is not enough (StepUpRequired), though a wrong one is still WrongPassword.
   */
  async requireFreshProof(user: User, session: ProofOfSession, currentPassword: string | undefined, origin: EventOrigin = {}): Promise<void> {
    if (currentPassword !== undefined) await this.requirePassword(user, currentPassword, origin);
    if (await this.requireStepUp(user, session)) return;
    if (currentPassword !== undefined || this.isFresh(session)) return;
    throw new DomainError('ReauthenticationRequired', 'this change needs your current password (currentPassword) or a sign-in within the last few minutes');
  }

  /**
   * The second-factor half of rule 4: an account with a second factor needs aal2 within
   * REAUTH_MAX_AGE (else StepUpRequired). Answers whether the account has one (false: nothing asked).
   */
  async requireStepUp(user: User, session: ProofOfSession): Promise<boolean> {
    if (!(await this.factors.hasSecondFactor(user.id))) return false;
    if (session.aal >= 2 && this.isFresh(session)) return true;
    throw new DomainError('StepUpRequired', 'this change needs a second factor within the last few minutes: step up with POST /v1/me/step-up');
  }

  private isFresh(session: ProofOfSession): boolean {
    return Date.now() - session.authTime.getTime() <= this.config.reauthMaxAge * 1000;
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
    // A reset is a recovery from a possible takeover: app passwords made meanwhile go too (second factors stay).
    if (reset) {
      const removed = await this.factors.deleteAll(tx, user.id, ['app-password']);
      for (const event of removalEvents(user.id, removed, origin, 'password_reset')) await this.audit.record(tx, event);
    }
    const sessionsEnded = await this.sessions.revokeOthers(
      user.id,
      reset ? undefined : change.keepSessionId,
      reset ? 'password_reset' : 'password_changed',
      tx,
      origin,
    );
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
  private async proveContact(
    tx: Tx,
    user: User,
    { kind, address }: ProvenContact,
    detachOthers: boolean,
    origin: EventOrigin,
  ): Promise<{ current: User; detached: string[] }> {
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
