/**
 * The rules of a second-step challenge, as pure functions (unit-tested in challenge-state.spec.ts):
 * which methods it offers, whether a try may be judged, and what a wrong try leaves. The service
 * applies them to the row it holds locked, so concurrent tries on any instance are counted exactly.
 */

/** How a second step is proved: a TOTP code, a passkey assertion, or one of the recovery codes. */
export type SecondFactorMethod = 'totp' | 'webauthn' | 'recovery';

/** A challenge lives 5 minutes … */
export const CHALLENGE_TTL_SECONDS = 300;
/** … and allows 5 tries (each wrong one also counts toward the account lockout of SPEC §6). */
export const CHALLENGE_MAX_ATTEMPTS = 5;

/** What the account has enrolled. */
export interface EnrolledFactors {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
}

/**
 * The methods a challenge offers: each enrolled factor, and recovery codes while some are left.
 * Recovery codes alone are no second factor (they come with one and go with the last one), so an
 * account without TOTP or passkey is offered nothing: it has no second step.
 */
export function offeredMethods(factors: EnrolledFactors): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = [];
  if (factors.totp) methods.push('totp');
  if (factors.passkeys > 0) methods.push('webauthn');
  if (methods.length > 0 && factors.recoveryCodesLeft > 0) methods.push('recovery');
  return methods;
}

/** The state of a challenge that decides whether a try is judged. */
export interface ChallengeState {
  methods: SecondFactorMethod[];
  attempts: number;
  expiresAt: Date;
  consumedAt: Date | null;
}

/**
 * Why a try is not judged: the challenge is over (`expired`, `used` — answered or cancelled —,
 * `exhausted` after 5 wrong tries: sign in again), or the method was not offered (a client error:
 * no try is spent).
 */
export type Refusal = 'expired' | 'used' | 'exhausted' | 'not-offered';

/** Whether a try with `method` may be judged now; null when it may. Order: over before not offered. */
export function refusalOf(challenge: ChallengeState, method: SecondFactorMethod, now: Date): Refusal | null {
  if (challenge.consumedAt) return 'used';
  if (challenge.attempts >= CHALLENGE_MAX_ATTEMPTS) return 'exhausted';
  if (challenge.expiresAt.getTime() <= now.getTime()) return 'expired';
  if (!challenge.methods.includes(method)) return 'not-offered';
  return null;
}

/** After a wrong try: the count, the tries left, and whether the challenge is now over. */
export function afterWrongTry(
  challenge: Pick<ChallengeState, 'attempts'>,
  maxAttempts = CHALLENGE_MAX_ATTEMPTS,
): { attempts: number; triesLeft: number; exhausted: boolean } {
  const attempts = challenge.attempts + 1;
  const triesLeft = Math.max(0, maxAttempts - attempts);
  return { attempts, triesLeft, exhausted: triesLeft === 0 };
}
