import { Catch } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../../common/domain-error';
import { BODY } from '../../../common/request-input';
import { httpStatusOf } from '../../../common/failure';
import { errorResponsesDecorator, SurfaceErrors } from '../../error-responses';
import { ErrorReply, SurfaceErrorFilter } from '../../surface-error.filter';
import { UsersApiErrorDto } from './users-api.dto';
import { detailOf, fieldErrorOf, fieldErrorsBody, isDictionary, notADictionary } from './users-api.presenter';

/**
 * 002's errors. The product was a Django REST Framework service, so its clients know DRF's bodies:
 * `{"detail": "…"}` for a non-field error and `{"<field>": ["…"]}` for input errors, with the
 * proper HTTP status (SPEC §7).
 */
@Catch()
export class UsersApiErrorFilter extends SurfaceErrorFilter {
  protected render(error: DomainError, request: FastifyRequest): ErrorReply {
    const status = httpStatusOf(error);
    if (error.kind === 'ValidationFailed') {
      const fields = error.details.fields ?? [];
      if (fields[0]?.field === BODY && !isDictionary(request.body)) return { status, body: { non_field_errors: [notADictionary(request.body)] } };
      return { status, body: fields.length ? fieldErrorsBody(fields) : { non_field_errors: [error.message] } };
    }
    const field = fieldErrorOf(error);
    return { status, body: field ? { [field.field]: [field.message] } : { detail: detailOf(error) } };
  }

  protected renderInternal(): ErrorReply {
    return { status: 500, body: { detail: 'A server error occurred.' } };
  }
}

/** 002's documented errors. */
export const USERS_API_ERRORS: SurfaceErrors = {
  model: UsersApiErrorDto,
  mediaType: 'application/json',
  // `{"<field>": ["…"]}` for whichever field was at fault, listed or not.
  additionalProperties: { type: 'array', items: { type: 'string' } },
  errors: {
    400: {
      description:
        'Invalid input (`{"<field>": ["…"]}`: a malformed e-mail or phone, a weak password, a missing field), a body that is not JSON ' +
        '(`{"detail": "JSON parse error - …"}`), or a wrong or expired code (`{"detail": "Invalid or expired code."}`).',
      example: { email: ['Enter a valid email address.'], password: ['password must be at least 8 characters long'] },
    },
    401: {
      description:
        'No token (`Authentication credentials were not provided.`), a bad, expired or revoked access token (`Given token not valid for any token type`), ' +
        'a bad or reused refresh token (`Token is invalid or expired`), or wrong credentials (`No active account found with the given credentials`; ' +
        'for an account with a second factor, its account password instead of an app password: the same words and a hint to use one).',
      example: { detail: 'Authentication credentials were not provided.' },
    },
    403: { description: 'The account is blocked.', example: { detail: 'User account is disabled.' } },
    404: { description: 'The account no longer exists.', example: { detail: 'Not found.' } },
    409: {
      description: 'The e-mail or number belongs to another account, or the e-mail is already confirmed.',
      example: { email: ['user with this email already exists.'] },
    },
    429: {
      description:
        "Too many requests or profile changes, a code sent less than a minute ago, the account's daily e-mail cap reached, or too many failed sign-ins; see Retry-After.",
      example: { detail: 'Request was throttled. Expected available in 42 seconds.' },
    },
    413: { description: 'The request body is larger than 64 KiB.', example: { detail: 'the request body is larger than 64 KiB' } },
    414: { description: 'A path segment of the URL is longer than 100 characters.', example: { detail: 'a path segment of the URL is too long' } },
    500: { description: 'A fault of ours (logged).', example: { detail: 'A server error occurred.' } },
    503: { description: 'The database cannot be reached in time; see Retry-After.', example: { detail: 'Service temporarily unavailable, try again later.' } },
  },
};

/** Documents 002's error responses. */
export const ApiUsersApiErrors = errorResponsesDecorator(USERS_API_ERRORS);
