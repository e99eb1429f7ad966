import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin } from '../audit/security-events';
import { AuthMethod, Session } from '../auth/session.entity';
import { AuthContext, SessionOptions, SessionsService, SessionTokens } from '../auth/sessions.service';
import { IssuedAccessToken } from '../auth/token.service';
import { DomainError } from '../common/domain-error';
import { SecurityContext } from '../common/security-context';
import { Transactions, Tx } from '../database/transactions';
import { CredentialsService, SecondFactorEventMethod } from '../credentials/credentials.service';
import { FactorsRepository } from '../credentials/factors.repository';
import { SecurityNotices } from '../credentials/security-notices.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import { afterWrongTry, CHALLENGE_MAX_ATTEMPTS, CHALLENGE_TTL_SECONDS, offeredMethods, Refusal, refusalOf, SecondFactorMethod } from './challenge-state';
import { ChallengesRepository } from './challenges.repository';
import { ChallengePurpose, MfaChallenge } from './mfa-challenge.entity';
import { hashTyped } from './one-time-secrets';
import { PasskeysService, userHandleOf } from './passkeys.service';
import { TotpService } from './totp.service';

/** One proof of a second step: exactly one of a TOTP code, a recovery code, or a passkey assertion. */
export interface SecondFactorProof {
  totp?: string;
  recoveryCode?: string;
  webauthn?: AuthenticationResponseJSON;
}

/** A challenge as its caller is told: what may answer it, until when, and the WebAuthn options when a passkey may. */
export interface StartedChallenge {
  challengeId: string;
  methods: SecondFactorMethod[];
  expiresAt: Date;
  webauthn: PublicKeyCredentialRequestOptionsJSON | null;
}

/** A sign-in that opened a session. */
export type SignedIn = { kind: 'session'; user: User } & SessionTokens;

/** What each method puts into the session's `amr`, and how the audit log's `challenge.*` events name it. */
const AMR: Record<SecondFactorMethod, AuthMethod & SecondFactorEventMethod> = { totp: 'otp', webauthn: 'webauthn', recovery: 'recovery' };

const HOUR_MS = 3_600_000;

/** The outcome of one try, decided inside the transaction and answered after it committed. */
type TryOutcome =
  { refusal: Refusal | 'unknown' } | { wrong: { triesLeft: number } } | { ok: MfaChallenge; method: SecondFactorMethod; recoveryCodesLeft?: number };

/**
 * Second-step challenges (issue 12): the second step of a password sign-in, a passkey sign-in
 * without password, and the step-up of a live session. A challenge is a row in `mfa_challenges`
 * (5 minutes, 5 tries: challenge-state.ts), locked while a try is judged, so any instance can
 * answer it and concurrent tries are counted exactly. A wrong try also counts toward the
 * account lockout (SPEC §6), and a locked account's challenges are refused like its passwords.
 * Each judged try is recorded in the audit log in its transaction: `challenge.passed` with the
 * consumed challenge, `challenge.failed` with the spent try and the lockout count.
 */
@Injectable()
export class MfaChallenges implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Mfa');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly challenges: ChallengesRepository,
    private readonly factors: FactorsRepository,
    private readonly totp: TotpService,
    private readonly passkeys: PasskeysService,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly users: UsersService,
    private readonly notices: SecurityNotices,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((err: Error) => this.logger.warn({ err }, 'challenge housekeeping failed')), HOUR_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Hourly on every instance (idempotent): challenges a day past their expiry, and TOTP enrolments never confirmed. */
  async sweep(): Promise<void> {
    await this.challenges.sweep();
    await this.factors.sweepPendingTotp();
  }

  /** The second step of a password sign-in, or null when the account has no second factor. */
  async startSignIn(user: User, { remember = false }: { remember?: boolean } = {}): Promise<StartedChallenge | null> {
    return this.start('sign-in', user, { remember });
  }

  /** A step-up of a live session (SPEC §9 rule 4 for an account with a second factor). */
  async startStepUp(actor: AuthContext): Promise<StartedChallenge> {
    const started = await this.start('step-up', actor.user, { sessionId: actor.sessionId });
    if (!started) throw new DomainError('NoSecondFactor', 'this account has no second factor; sensitive changes take the current password instead');
    return started;
  }

  /** Answers a sign-in challenge: the session the password step was for, at aal2. */
  async completeSignIn(challengeId: string, proof: SecondFactorProof, client: SessionOptions = {}): Promise<SignedIn> {
    const { challenge, method, user } = await this.answer(challengeId, 'sign-in', proof, { context: contextOf(client) });
    if (user.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
    const tokens = await this.sessions.start(user, { ...client, remember: challenge.remember, amr: ['pwd', AMR[method]], aal: 2, credentialId: null });
    return { kind: 'session', user, ...tokens };
  }

  /** Answers a step-up challenge of this session: the session is aal2 as of now, with a new access token saying so. */
  async completeStepUp(
    actor: AuthContext,
    challengeId: string,
    proof: SecondFactorProof,
    context?: SecurityContext,
  ): Promise<{ session: Session; access: IssuedAccessToken }> {
    const { method } = await this.answer(challengeId, 'step-up', proof, { context, sessionId: actor.sessionId });
    return this.sessions.stepUp(actor.user, actor.sessionId, AMR[method]);
  }

  /** A sign-in with a passkey alone: options for any discoverable passkey of this relying party (user verification required). */
  async startPasskeySignIn(): Promise<StartedChallenge> {
    const webauthn = await this.passkeys.authenticationOptions([], 'required');
    const challenge = await this.challenges.create({
      purpose: 'passkey-sign-in',
      userId: null,
      sessionId: null,
      methods: ['webauthn'],
      webauthnChallenge: webauthn.challenge,
      remember: false,
      expiresAt: this.expiry(),
    });
    return { challengeId: challenge.id, methods: challenge.methods, expiresAt: challenge.expiresAt, webauthn };
  }

  /**
   * Signs in with a passkey alone: the assertion names the passkey, hence the account. The
   * authenticator must have verified the user, so the one gesture is two factors (aal2). One try
   * per challenge; a failure does not count toward the lockout (nobody's password was guessed),
   * but a locked account is refused here too. A try with a passkey of a known account is recorded
   * (`challenge.passed` or `challenge.failed`, method `webauthn`) in the challenge's transaction.
   */
  async completePasskeySignIn(challengeId: string, assertion: AuthenticationResponseJSON, options: SessionOptions = {}): Promise<SignedIn> {
    const passkey = await this.factors.findPasskey(assertion.id);
    const user = passkey ? await this.users.get(passkey.userId).catch(() => null) : null;
    const context = contextOf(options);
    const outcome = await this.transactions.run(async (tx): Promise<TryOutcome> => {
      const challenge = await this.challenges.lock(tx, challengeId);
      if (!challenge || challenge.purpose !== 'passkey-sign-in') return { refusal: 'unknown' };
      const refusal = refusalOf(challenge, 'webauthn', new Date());
      if (refusal) return { refusal };
      if (!passkey || !user) {
        await this.challenges.recordWrongTry(tx, challenge.id, CHALLENGE_MAX_ATTEMPTS, true);
        return { wrong: { triesLeft: 0 } };
      }
      await this.credentials.assertNotLocked(user.id, tx);
      // A discoverable passkey names its account's user handle; it must be this passkey's account.
      const handle = assertion.response.userHandle;
      const good =
        (handle === undefined || handle === null || handle === userHandleOf(user.id)) &&
        (await this.passkeys.verifyAssertion(tx, passkey, assertion, challenge.webauthnChallenge!, true));
      if (!good) {
        await this.challenges.recordWrongTry(tx, challenge.id, CHALLENGE_MAX_ATTEMPTS, true);
        // Not counted toward the lockout (see above), but the account hears of it: nobody proven, no actor.
        await this.audit.record(tx, { type: 'challenge.failed', userId: user.id, actorId: null, context, details: { method: AMR.webauthn } });
        return { wrong: { triesLeft: 0 } };
      }
      await this.challenges.consume(tx, challenge.id);
      await this.credentials.settleSignIn(user.id, tx);
      await this.audit.record(tx, { type: 'challenge.passed', userId: user.id, context, details: { method: AMR.webauthn } });
      return { ok: challenge, method: 'webauthn' };
    });
    this.raise(outcome);
    if (user!.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
    const tokens = await this.sessions.start(user!, { ...options, amr: ['webauthn'], aal: 2, credentialId: null });
    return { kind: 'session', user: user!, ...tokens };
  }

  private async start(
    purpose: 'sign-in' | 'step-up',
    user: User,
    { remember = false, sessionId = null }: { remember?: boolean; sessionId?: string | null },
  ): Promise<StartedChallenge | null> {
    const methods = offeredMethods(await this.factors.summary(user.id));
    if (methods.length === 0) return null;
    const webauthn = methods.includes('webauthn') ? await this.passkeys.authenticationOptions(await this.factors.listPasskeys(user.id), 'preferred') : null;
    const challenge = await this.challenges.create({
      purpose,
      userId: user.id,
      sessionId,
      methods,
      webauthnChallenge: webauthn?.challenge ?? null,
      remember,
      expiresAt: this.expiry(),
    });
    return { challengeId: challenge.id, methods, expiresAt: challenge.expiresAt, webauthn };
  }

  /**
   * Judges one try on a challenge of `purpose` (of `origin.sessionId`, for a step-up), in one
   * transaction with the challenge row locked; throws after the commit when it failed, so the spent
   * try, the lockout count and the `challenge.failed` event stay recorded.
   */
  private async answer(
    challengeId: string,
    purpose: ChallengePurpose,
    proof: SecondFactorProof,
    origin: EventOrigin,
  ): Promise<{ challenge: MfaChallenge; method: SecondFactorMethod; user: User }> {
    const { sessionId } = origin;
    const method = methodOf(proof);
    const owner = (await this.challenges.peek(challengeId))?.userId;
    const user = owner ? await this.users.get(owner).catch(() => null) : null;
    const outcome = await this.transactions.run(async (tx): Promise<TryOutcome> => {
      const challenge = await this.challenges.lock(tx, challengeId);
      if (
        !challenge ||
        !user ||
        challenge.purpose !== purpose ||
        challenge.userId !== user.id ||
        (sessionId !== undefined && challenge.sessionId !== sessionId)
      ) {
        return { refusal: 'unknown' };
      }
      const refusal = refusalOf(challenge, method, new Date());
      if (refusal) return { refusal };
      await this.credentials.assertNotLocked(user.id, tx);
      if (!(await this.verify(tx, user.id, challenge, method, proof))) {
        const next = afterWrongTry(challenge);
        await this.challenges.recordWrongTry(tx, challenge.id, next.attempts, next.exhausted);
        await this.credentials.recordSecondFactorFailure(user.id, tx, AMR[method], origin);
        return { wrong: { triesLeft: next.triesLeft } };
      }
      await this.challenges.consume(tx, challenge.id);
      await this.credentials.settleSignIn(user.id, tx);
      // The step-up's session is the one that proved it; a sign-in's session does not exist yet.
      await this.audit.record(tx, { type: 'challenge.passed', userId: user.id, sessionId, context: origin.context, details: { method: AMR[method] } });
      if (method !== 'recovery') return { ok: challenge, method };
      const { recoveryCodesLeft } = await this.factors.summary(user.id, tx);
      await this.notices.announce(tx, user, 'recovery-code-used', { params: { remaining: recoveryCodesLeft } });
      return { ok: challenge, method, recoveryCodesLeft };
    });
    this.raise(outcome);
    if (method === 'recovery') this.notices.deliverSoon();
    return { challenge: (outcome as { ok: MfaChallenge }).ok, method, user: user! };
  }

  private async verify(tx: Tx, userId: string, challenge: MfaChallenge, method: SecondFactorMethod, proof: SecondFactorProof): Promise<boolean> {
    switch (method) {
      case 'totp':
        return this.totp.verify(tx, userId, proof.totp!);
      case 'recovery':
        return this.factors.consumeRecoveryCode(tx, userId, hashTyped(proof.recoveryCode!));
      case 'webauthn': {
        const passkey = await this.factors.findPasskey(proof.webauthn!.id, userId, tx);
        return !!passkey && !!challenge.webauthnChallenge && this.passkeys.verifyAssertion(tx, passkey, proof.webauthn!, challenge.webauthnChallenge, false);
      }
    }
  }

  /** Throws for every outcome but success (after the transaction committed). */
  private raise(outcome: TryOutcome): asserts outcome is Extract<TryOutcome, { ok: MfaChallenge }> {
    if ('refusal' in outcome) {
      if (outcome.refusal === 'not-offered') {
        throw DomainError.validation([{ field: 'method', message: 'this method was not offered for this challenge' }]);
      }
      throw new DomainError('MfaChallengeInvalid', 'the challenge is unknown, expired, used or out of tries; sign in again');
    }
    if ('wrong' in outcome) {
      const { triesLeft } = outcome.wrong;
      throw new DomainError(
        'WrongSecondFactor',
        triesLeft > 0 ? `the code or passkey is wrong; ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left` : 'the code or passkey is wrong; sign in again',
      );
    }
  }

  private expiry(): Date {
    return new Date(Date.now() + CHALLENGE_TTL_SECONDS * 1000);
  }
}

/** The request's context, from the client fields of a sign-in's options. */
function contextOf(client: SessionOptions): SecurityContext {
  return { ip: client.ip ?? null, userAgent: client.userAgent ?? null, surface: client.surface ?? null };
}

/** The one method a proof uses (the DTO lets exactly one through). */
export function methodOf(proof: SecondFactorProof): SecondFactorMethod {
  const given = [proof.totp !== undefined && 'totp', proof.recoveryCode !== undefined && 'recovery', proof.webauthn !== undefined && 'webauthn'].filter(
    Boolean,
  ) as SecondFactorMethod[];
  if (given.length !== 1) throw DomainError.validation([{ field: 'totp', message: 'send exactly one of totp, recoveryCode or webauthn' }]);
  return given[0];
}
