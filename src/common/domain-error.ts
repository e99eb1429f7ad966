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
