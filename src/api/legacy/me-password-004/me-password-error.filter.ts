import { Catch } from '@nestjs/common';
import { QueryFailedError, TypeORMError } from 'typeorm';
import { DomainError, DomainErrorKind } from '../../../common/domain-error';
import { httpStatusOf } from '../../../common/failure';
import { errorResponsesDecorator, SurfaceErrors } from '../../error-responses';
import { ErrorReply, messageOf, SurfaceErrorFilter } from '../../surface-error.filter';
import { MePasswordDto, MePasswordErrorDto } from './me-password.dto';

/** The message of a field the mode needs but the body lacks; tells 21009 (no phone) from 21013 (bad phone). */
export const MISSING = 'is required';

export function missingField(field: keyof MePasswordDto): DomainError {
  return DomainError.validation([{ field, message: `${field} ${MISSING}` }]);
}

/** Which documented code a bad field gets. */
const FIELD_CODES: Record<string, { missing: number; invalid: number }> = {
  password: { missing: 21007, invalid: 21007 },
  newPassword: { missing: 21007, invalid: 21007 },
  code: { missing: 21008, invalid: 21008 },
  phone: { missing: 21009, invalid: 21013 },
};

/** Domain error kind → documented code (SPEC §7, seeds/004). */
const KIND_CODES: Partial<Record<DomainErrorKind, number>> = {
  MalformedBody: 21003,
  InvalidPhone: 21013,
  AccountBlocked: 21010,
  ResendTooSoon: 21011,
  RateLimited: 21011,
  AccountLocked: 21011,
  WrongPassword: 21014,
  WeakPassword: 21014,
  Unauthenticated: 21015,
  InvalidToken: 21015,
  SessionRevoked: 21015,
  InvalidCredentials: 21015,
  AppPasswordRequired: 21015,
  InvalidCode: 21015,
  ServiceUnavailable: 21001,
};

/** Codes of a 5xx: which step failed in the original service. */
export const SERVER_CODES = { connection: 21001, compile: 21004, query: 21005 } as const;

/**
 * 004's errors: `{"code": 21xxx, "message": …}` with the proper HTTP status. Everything that is
 * not a documented request problem but still the caller's (a body too large, a wrong method…)
 * is 21002, "the request body could not be read".
 */
@Catch()
export class MePasswordErrorFilter extends SurfaceErrorFilter {
  protected render(error: DomainError): ErrorReply {
    const status = httpStatusOf(error);
    const body: MePasswordErrorDto = { code: codeOf(error), message: messageOf(error) };
    if (error.details.retryAfterSeconds !== undefined) body.timeout = Math.max(1, Math.ceil(error.details.retryAfterSeconds));
    return { status, body };
  }

  protected renderInternal(exception: unknown): ErrorReply {
    if (exception instanceof QueryFailedError) return { status: 500, body: { code: SERVER_CODES.query, message: 'the password could not be changed' } };
    if (exception instanceof TypeORMError) return { status: 500, body: { code: SERVER_CODES.compile, message: 'the password could not be changed' } };
    return { status: 500, body: { code: SERVER_CODES.query, message: 'the password could not be changed' } };
  }
}

export function codeOf(error: DomainError): number {
  const field = error.kind === 'ValidationFailed' ? error.details.fields?.[0] : undefined;
  if (field) {
    const codes = FIELD_CODES[field.field];
    if (codes) return field.message.endsWith(MISSING) ? codes.missing : codes.invalid;
  }
  return KIND_CODES[error.kind] ?? 21002;
}

const example = (code: number, message: string, extra: object = {}) => ({ code, message, ...extra });

/** 004's documented errors. */
export const ME_PASSWORD_ERRORS: SurfaceErrors = {
  model: MePasswordErrorDto,
  mediaType: 'application/json',
  errors: {
    400: {
      description:
        "21002 body unreadable or not a JSON object · 21003 malformed JSON, invalid UTF-8 or nested deeper than 32 levels · 21007 no password / newPassword · 21008 no code · 21009 no phone · 21013 bad phone · 21014 new password fails the policy · 21015 wrong or expired SMS code. A field holding a control character gets that field's code.",
      example: example(21008, 'code is required'),
    },
    401: {
      description: '21015: the token is missing where required, invalid, expired or revoked.',
      example: example(21015, 'the access token is invalid or expired'),
    },
    403: { description: '21010 blocked user · 21014 wrong current password.', example: example(21014, 'the current password is wrong') },
    429: {
      description: '21011: the SMS resend timeout (30 s) has not passed; `timeout` and Retry-After give the seconds left. Also for too many requests.',
      example: example(21011, 'a message was sent recently; try again in 17 s', { timeout: 17 }),
    },
    500: {
      description:
        '21004 / 21005: the change could not be stored. (21006 is not produced separately: results are read by the driver, whose failures are 21005.)',
      example: example(21005, 'the password could not be changed'),
    },
    503: {
      description: '21001: the database is unavailable (see Retry-After).',
      example: example(21001, 'the service is temporarily unavailable; try again shortly'),
    },
    413: { description: '21002: the request body is larger than 64 KiB.', example: example(21002, 'the request body is larger than 64 KiB') },
    414: { description: '21002: a path segment of the URL is longer than 100 characters.', example: example(21002, 'a path segment of the URL is too long') },
  },
};

/** Documents 004's error responses. */
export const ApiMePasswordErrors = errorResponsesDecorator(ME_PASSWORD_ERRORS);
