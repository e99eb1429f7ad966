import { Injectable } from '@nestjs/common';
import { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { AuthContext, SessionsService } from '../auth/sessions.service';
import { DomainError } from '../common/domain-error';
import { SecurityContext } from '../common/security-context';
import { Transactions, Tx } from '../database/transactions';
import { Credential } from '../credentials/credential.entity';
import { CredentialsService } from '../credentials/credentials.service';
import { AppPasswordRevocation, factorKindOf, removalEvents } from '../credentials/factor-events';
import { FactorsRepository, RemovedCredential } from '../credentials/factors.repository';
import { SecurityNotices } from '../credentials/security-notices.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { CHALLENGE_TTL_SECONDS, refusalOf } from './challenge-state';
import { ChallengesRepository } from './challenges.repository';
import { hashTyped, newRecoveryCode, RECOVERY_CODE_COUNT } from './one-time-secrets';
import { PasskeysService } from './passkeys.service';
import { TotpEnrolment, TotpService } from './totp.service';

/** The second factors of an account, as its owner (or an administrator) sees them: never a secret. */
export interface FactorOverview {
  /** TOTP and passkeys, oldest first. */
  factors: Credential[];
  recoveryCodesLeft: number;
  appPasswords: number;
}

/** A factor just enrolled; the recovery codes come with the account's first factor (shown once). */
export interface Enrolled {
  factor: Credential;
  recoveryCodes: string[] | null;
}

export interface PasskeyRegistration {
  challengeId: string;
  expiresAt: Date;
  publicKey: PublicKeyCredentialCreationOptionsJSON;
}

/**
 * Enrolling and managing second factors (issue 12): TOTP, passkeys and recovery codes. Managing
 * them is a sensitive change (SPEC §9 rule 4): fresh proof, which for an account that has a
 * factor means aal2 within REAUTH_MAX_AGE. Adding or removing a factor, and new recovery codes,
 * are announced to the owner (rule 3) and recorded in the audit log (`factor.added`,
 * `factor.removed`, `app_password.revoked`) in the change's transaction. When the last factor goes,
 * its recovery codes and app passwords go with it (the app passwords' sessions end): the account
 * signs in with its password everywhere again.
 */
@Injectable()
export class SecondFactors {
  constructor(
    private readonly factors: FactorsRepository,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
    private readonly challenges: ChallengesRepository,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly notices: SecurityNotices,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  async overview(userId: string): Promise<FactorOverview> {
    const [factors, summary] = await Promise.all([this.factors.listFactors(userId), this.factors.summary(userId)]);
    return { factors, recoveryCodesLeft: summary.recoveryCodesLeft, appPasswords: summary.appPasswords };
  }

  /** An administrator's view of a user (404 for an unknown id). */
  async overviewOf(userId: string): Promise<FactorOverview> {
    await this.users.get(userId);
    return this.overview(userId);
  }

  async startTotp(actor: AuthContext, currentPassword?: string, context?: SecurityContext): Promise<TotpEnrolment> {
    await this.credentials.requireFreshProof(actor.user, actor, currentPassword, originOf(actor, context));
    return this.totp.startEnrolment(actor.user);
  }

  /** The first code makes the enrolment the account's authenticator app. */
  async confirmTotp(actor: AuthContext, code: string, context?: SecurityContext): Promise<Enrolled> {
    const enrolled = await this.transactions.run(async (tx) =>
      this.added(tx, actor.user, await this.totp.confirmEnrolment(tx, actor.user, code), originOf(actor, context)),
    );
    this.notices.deliverSoon();
    return enrolled;
  }

  async passkeyRegistrationOptions(actor: AuthContext, currentPassword?: string, context?: SecurityContext): Promise<PasskeyRegistration> {
    await this.credentials.requireFreshProof(actor.user, actor, currentPassword, originOf(actor, context));
    const publicKey = await this.passkeys.registrationOptions(actor.user, await this.factors.listPasskeys(actor.user.id));
    const challenge = await this.challenges.create({
      purpose: 'passkey-registration',
      userId: actor.user.id,
      sessionId: actor.sessionId,
      methods: ['webauthn'],
      webauthnChallenge: publicKey.challenge,
      remember: false,
      expiresAt: new Date(Date.now() + CHALLENGE_TTL_SECONDS * 1000),
    });
    return { challengeId: challenge.id, expiresAt: challenge.expiresAt, publicKey };
  }

  /** Registers the passkey that answered this session's registration challenge (one try). */
  async registerPasskey(
    actor: AuthContext,
    challengeId: string,
    name: string | undefined,
    response: RegistrationResponseJSON,
    context?: SecurityContext,
  ): Promise<Enrolled> {
    const user = actor.user;
    const outcome = await this.transactions.run(async (tx): Promise<Enrolled | 'unknown' | 'rejected'> => {
      const challenge = await this.challenges.lock(tx, challengeId);
      if (!challenge || challenge.purpose !== 'passkey-registration' || challenge.userId !== user.id || challenge.sessionId !== actor.sessionId)
        return 'unknown';
      if (refusalOf(challenge, 'webauthn', new Date())) return 'unknown';
      await this.challenges.consume(tx, challenge.id);
      const verified = await this.passkeys.verifyRegistration(response, challenge.webauthnChallenge!);
      if (!verified) return 'rejected';
      const passkey = await this.factors.addPasskey(tx, {
        userId: user.id,
        subject: verified.subject,
        secret: verified.publicKey,
        name: name?.trim() || 'Passkey',
        counter: String(verified.counter),
        details: verified.details,
      });
      if (!passkey) throw new DomainError('AlreadyEnrolled', 'this passkey is registered already');
      return this.added(tx, user, passkey, originOf(actor, context));
    });
    if (outcome === 'unknown') throw new DomainError('MfaChallengeInvalid', 'the registration challenge is unknown, expired or used; ask for new options');
    if (outcome === 'rejected')
      throw new DomainError('PasskeyRejected', 'the passkey response did not verify (challenge, origin, relying party or signature); ask for new options');
    this.notices.deliverSoon();
    return outcome;
  }

  async renameFactor(user: User, id: string, name: string): Promise<Credential> {
    const renamed = await this.factors.renameFactor(user.id, id, name.trim());
    if (!renamed) throw new DomainError('NotFound', 'no such factor');
    return renamed;
  }

  async removeFactor(actor: AuthContext, id: string, currentPassword?: string, context?: SecurityContext): Promise<void> {
    const origin = originOf(actor, context);
    await this.credentials.requireFreshProof(actor.user, actor, currentPassword, origin);
    await this.transactions.run(async (tx) => {
      const factor = await this.factors.findFactor(actor.user.id, id, tx);
      if (!factor) throw new DomainError('NotFound', 'no such factor');
      const removed = await this.factors.delete(tx, actor.user.id, [factor.id]);
      await this.recordRemoved(tx, actor.user.id, removed, origin, 'second_factors_removed');
      const summary = await this.factors.summary(actor.user.id, tx);
      const lastFactor = !summary.totp && summary.passkeys === 0;
      if (lastFactor) {
        const dependents = await this.dropDependents(tx, actor.user.id, 'second_factors_removed', origin);
        await this.recordRemoved(tx, actor.user.id, dependents, origin, 'second_factors_removed');
      }
      await this.notices.announce(tx, actor.user, 'second-factor-removed', { params: { factor: noticeFactor(factor), lastFactor } });
    });
    this.notices.deliverSoon();
  }

  /** A new set of recovery codes; the old set stops working. */
  async regenerateRecoveryCodes(actor: AuthContext, currentPassword?: string, context?: SecurityContext): Promise<string[]> {
    if (!(await this.credentials.hasSecondFactor(actor.user.id))) throw noSecondFactor('recovery codes come with a second factor');
    const origin = originOf(actor, context);
    await this.credentials.requireFreshProof(actor.user, actor, currentPassword, origin);
    const codes = await this.transactions.run(async (tx) => {
      const fresh = await this.newRecoveryCodes(tx, actor.user.id, origin);
      await this.notices.announce(tx, actor.user, 'recovery-codes-renewed');
      return fresh;
    });
    this.notices.deliverSoon();
    return codes;
  }

  /**
   * Administration: every second factor, recovery code and app password of the user goes, every
   * session ends, and the user is told. They sign in with their password again. The events name
   * the administrator (`origin.actorId`) as the actor.
   */
  async resetByAdministrator(userId: string, origin: EventOrigin = {}): Promise<void> {
    const user = await this.users.get(userId);
    // The administrator's own session is not this user's: not recorded.
    const asAdministrator: EventOrigin = { actorId: origin.actorId, context: origin.context };
    await this.transactions.run(async (tx) => {
      await this.sessions.revokeOthers(user.id, undefined, 'second_factors_reset', tx, asAdministrator);
      const removed = await this.factors.deleteAll(tx, user.id, ['totp', 'totp-pending', 'webauthn', 'recovery-code', 'app-password']);
      await this.recordRemoved(tx, user.id, removed, asAdministrator, 'second_factors_reset');
      await this.notices.announce(tx, user, 'second-factors-reset');
    });
    this.notices.deliverSoon();
  }

  /** After a factor was added in `tx`: its event; the first one brings recovery codes; the owner hears of it. */
  private async added(tx: Tx, user: User, factor: Credential, origin: EventOrigin): Promise<Enrolled> {
    await this.audit.record(tx, { ...eventOf(user.id, origin), type: 'factor.added', details: { factor: factorKindOf(factor.type) } });
    const summary = await this.factors.summary(user.id, tx);
    const first = (summary.totp ? 1 : 0) + summary.passkeys === 1;
    const recoveryCodes = first ? await this.newRecoveryCodes(tx, user.id, origin) : null;
    await this.notices.announce(tx, user, 'second-factor-added', { params: { factor: noticeFactor(factor) } });
    return { factor, recoveryCodes };
  }

  /** A new set of recovery codes in `tx` (the old set goes), with its `factor.added` event. */
  private async newRecoveryCodes(tx: Tx, userId: string, origin: EventOrigin): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.factors.replaceRecoveryCodes(tx, userId, codes.map(hashTyped));
    await this.audit.record(tx, { ...eventOf(userId, origin), type: 'factor.added', details: { factor: 'recovery_codes' } });
    return codes;
  }

  /** The last factor went: recovery codes, a pending enrolment and app passwords go too (their sessions end first). Returns what went. */
  private async dropDependents(tx: Tx, userId: string, reason: AppPasswordRevocation, origin: EventOrigin): Promise<RemovedCredential[]> {
    const appPasswords = await this.factors.listAppPasswords(userId, tx);
    await this.sessions.revokeOpenedBy(
      userId,
      appPasswords.map((credential) => credential.id),
      reason,
      tx,
      origin,
    );
    return this.factors.deleteAll(tx, userId, ['recovery-code', 'totp-pending', 'app-password']);
  }

  /** The events of credentials deleted in `tx` (factor.removed, app_password.revoked), in that transaction. */
  private async recordRemoved(tx: Tx, userId: string, removed: RemovedCredential[], origin: EventOrigin, reason: AppPasswordRevocation): Promise<void> {
    for (const event of removalEvents(userId, removed, origin, reason)) await this.audit.record(tx, event);
  }
}

/** The origin of a signed-in user's own change: themself, from this session and request. */
function originOf(actor: AuthContext, context: SecurityContext | undefined): EventOrigin {
  return { context, sessionId: actor.sessionId };
}

function eventOf(userId: string, origin: EventOrigin) {
  return { userId, actorId: origin.actorId, sessionId: origin.sessionId, context: origin.context };
}

export function noSecondFactor(what: string): DomainError {
  return new DomainError('NoSecondFactor', `${what}: set up an authenticator app or a passkey first`);
}

function noticeFactor(factor: Credential): { kind: 'totp' | 'webauthn'; name: string | null } {
  return { kind: factor.type === 'webauthn' ? 'webauthn' : 'totp', name: factor.name };
}
