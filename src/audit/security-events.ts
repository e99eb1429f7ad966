import { SecurityContext } from '../common/security-context';

/**
 * Every kind of row in `security_events`, with what it records. The README's event table and the
 * Swagger enum are this list.
 */
export const SECURITY_EVENT_TYPES = {
  'account.created': 'An account was registered (any surface, or the operator CLI). details: `role`.',
  'sign_in.succeeded':
    'A sign-in opened a session (`session_id`). details: `method` (`password`, `app_password`, `passkey`: the first proof), `amr` (every proof: `pwd`, `otp`, `webauthn`, `recovery`, `app-password`), `remember`.',
  'sign_in.failed':
    'A sign-in was refused. details: `reason`: `wrong_password`, `unknown_account` (no user id), `locked` (refused during a lockout, the password unchecked) or `blocked`. The login typed is never recorded.',
  'reauth.failed': 'A wrong current password for a change (it counts toward the lockout like a failed sign-in).',
  'account.locked': 'A failure (sign-in, current password or second-factor challenge) locked the account. details: `seconds` of the lock, `failures` in a row.',
  'session.logout': 'The user signed out of this session (`session_id`).',
  'session.revoked':
    'Sessions ended for another reason. details: `reason` (`revoked_by_user`, `password_changed`, `password_reset`, `blocked`, `email_change_reverted`, `app_password_revoked`: the sessions an app password opened, `second_factors_removed`, `second_factors_reset`), `count`; `session_id` when one session was named.',
  'session.refresh_reuse': 'An already-rotated refresh token came back outside the grace window: the whole session was revoked (token theft) (`session_id`).',
  'password.changed':
    'The password was changed by the user (current password, a code, or a session the surface trusts) or by an administrator (`actor_id`). details: `sessionsEnded`.',
  'password.reset': 'The password was reset with a code or link ("forgot password"). details: `via` (`email`, `phone`), `sessionsEnded`.',
  'email.changed':
    'The e-mail address changed. details: `previousAddress`, `newAddress` (personal data: removed when the account is deleted), `verified` (the new one is proven), `reason` (`update`, `confirmed`, `reverted`, `detached_by_reset`).',
  'email.verified': 'The e-mail address was proven. details: `via` (`code`, `link`, `password_reset`).',
  'phone.changed': 'The phone number changed. details as for `email.changed`.',
  'phone.verified': 'The phone number was proven. details: `via` (`code`, `password_reset`).',
  'role.changed': 'The role changed (an administrator: `actor_id`; the operator CLI: no actor). details: `from`, `to`.',
  'status.changed': 'The account was blocked or unblocked by an administrator (`actor_id`). details: `from`, `to`.',
  'admin.user_updated': "An administrator changed another user's profile (001 `PUT /{user_id}`). details: `fields` (names only, never values).",
  'account.deleted': 'The account was deleted; its events stay, without personal data.',
  'factor.added':
    'A second factor was added: an authenticator app confirmed, a passkey registered, or recovery codes made (with the first factor, or new ones replacing the old). details: `factor` (`totp`, `passkey`, `recovery_codes`).',
  'factor.removed':
    'A second factor was removed by the user, or every one by an administrator (`actor_id`); the recovery codes go with the last factor. details: `factor` (`totp`, `passkey`, `recovery_codes`).',
  'challenge.passed':
    'A second-factor challenge was answered (the second step of a sign-in, a sign-in with a passkey alone, or a step-up of a session: `session_id`); the sign-in or step-up continues. details: `method` (`otp`, `webauthn`, `recovery`).',
  'challenge.failed':
    'A wrong answer to a second-factor challenge (counts toward the lockout, except a sign-in with a passkey alone), no actor. details: `method` (`otp`, `webauthn`, `recovery`).',
  'app_password.created': 'An app password for a legacy client was created. details: `name`.',
  'app_password.used': 'A legacy sign-in used an app password (its `sign_in.succeeded` follows). details: `name`.',
  'app_password.revoked':
    'An app password was revoked (its sessions end). details: `name`, `reason` (`revoked_by_user`, `second_factors_removed` with the last factor, `second_factors_reset` by an administrator, `password_reset`).',
} as const;

export type SecurityEventType = keyof typeof SECURITY_EVENT_TYPES;

export const SECURITY_EVENT_TYPE_NAMES = Object.keys(SECURITY_EVENT_TYPES) as SecurityEventType[];

/** Small, non-secret facts about an event: never a password, code, token or hash. */
export type EventDetails = Record<string, string | number | boolean | null | string[]>;

/**
 * Keys of `details` that hold personal data (contact addresses). They are removed, with the IP
 * address and user agent, when the account the event concerns (or that acted) is deleted.
 */
export const PERSONAL_DETAIL_KEYS = ['previousAddress', 'newAddress'] as const;

/** One row to append. */
export interface SecurityEvent {
  type: SecurityEventType;
  /** The account the event concerns; null when there is none (a sign-in with an unknown login). */
  userId: string | null;
  /**
   * Who acted. Defaults to `userId` (the user, proven by a session, a password, a code or a link);
   * another account for an administrator's action; null when nobody was proven (a failed sign-in)
   * or for the service itself and the operator CLI.
   */
  actorId?: string | null;
  sessionId?: string | null;
  /** Where the request came from: surface, client IP, user agent (none for the service's own work). */
  context?: SecurityContext | null;
  details?: EventDetails;
}

/**
 * What a domain call passes along so the events it writes say who acted and from where. Every
 * field is optional: a call without an origin records the service itself.
 */
export interface EventOrigin {
  context?: SecurityContext;
  /** The acting account when it is not the user the change concerns (an administrator). */
  actorId?: string | null;
  /** The session that made the request. */
  sessionId?: string;
}
