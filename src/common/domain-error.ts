/**
 * Every failure a domain service reports. Surfaces map `kind` to their own status code and
 * envelope in one table each (api/v1/problem-details.filter.ts, api/legacy/<name>/…filter.ts).
 */
export type DomainErrorKind =
  | 'ValidationFailed'
  | 'MalformedBody'
  | 'Unauthenticated'
  | 'InvalidCredentials'
  | 'InvalidToken'
  | 'InvalidRefreshToken'
  | 'SessionRevoked'
  | 'AccountBlocked'
  | 'AccountLocked'
  | 'Forbidden'
  | 'NotFound'
  | 'UserNotFound'
  | 'EmailTaken'
  | 'UsernameTaken'
  | 'PhoneTaken'
  | 'InvalidPhone'
  | 'InvalidUsername'
  | 'WeakPassword'
  | 'WrongPassword'
  | 'IdentifierRequired'
  | 'RateLimited'
  /** A verification code or link token that is wrong, expired, used or voided (one message for all: no oracle). */
  | 'InvalidCode'
  /** A new code for this target and purpose was sent too recently; `details.retryAfterSeconds` says when. */
  | 'ResendTooSoon'
  /** The e-mail or phone to verify is already verified. */
  | 'AlreadyVerified'
  /** The account has no e-mail or phone to send a code to. */
  | 'ContactMissing'
  /** A sensitive change without fresh proof: the current password, or a recent sign-in (SPEC §9 rule 4). */
  | 'ReauthenticationRequired'
  /** The database could not be reached in time (pool exhausted or server down): try again shortly. */
  | 'ServiceUnavailable'
  /** A framework-level 4xx (unknown route, wrong method, body too large…); `details.status` keeps its code. */
  | 'HttpError';

export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    readonly details: { fields?: FieldError[]; retryAfterSeconds?: number; status?: number } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static validation(fields: FieldError[]): DomainError {
    return new DomainError('ValidationFailed', fields.map((f) => `${f.field}: ${f.message}`).join('; '), { fields });
  }
}
