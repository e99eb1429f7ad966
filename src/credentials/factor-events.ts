import { EventOrigin, SecurityEvent } from '../audit/security-events';
import { CredentialType } from './credential.entity';
import { RemovedCredential } from './factors.repository';

/** What the `factor.*` events call a kind of second factor (details `factor`). */
export type FactorKind = 'totp' | 'passkey' | 'recovery_codes';

/** Why app passwords were revoked (`app_password.revoked` details `reason`). */
export type AppPasswordRevocation = 'revoked_by_user' | 'second_factors_removed' | 'second_factors_reset' | 'password_reset';

export function factorKindOf(type: CredentialType): FactorKind | null {
  switch (type) {
    case 'totp':
      return 'totp';
    case 'webauthn':
      return 'passkey';
    case 'recovery-code':
      return 'recovery_codes';
    default:
      return null;
  }
}

/**
 * The audit events of credentials that were just deleted (to record in the deletion's
 * transaction): `factor.removed` for each TOTP and passkey and once for the recovery codes (a set),
 * `app_password.revoked` for each app password, with its name and why. A pending TOTP enrolment
 * was never a factor: nothing. Never a secret: names and kinds only.
 */
export function removalEvents(userId: string, removed: RemovedCredential[], origin: EventOrigin, reason: AppPasswordRevocation): SecurityEvent[] {
  const event = { userId, actorId: origin.actorId, sessionId: origin.sessionId, context: origin.context };
  const events: SecurityEvent[] = [];
  let recoveryCodes = false;
  for (const credential of removed) {
    if (credential.type === 'app-password') {
      events.push({ ...event, type: 'app_password.revoked', details: { name: credential.name, reason } });
      continue;
    }
    const factor = factorKindOf(credential.type);
    if (factor === 'recovery_codes') recoveryCodes = true;
    else if (factor) events.push({ ...event, type: 'factor.removed', details: { factor } });
  }
  if (recoveryCodes) events.push({ ...event, type: 'factor.removed', details: { factor: 'recovery_codes' } });
  return events;
}
