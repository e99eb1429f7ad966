import { STATUS_CODES } from 'node:http';
import { Catch } from '@nestjs/common';
import { DomainError } from '../../../common/domain-error';
import { httpStatusOf } from '../../../common/failure';
import { errorResponsesDecorator, SurfaceErrors } from '../../error-responses';
import { ErrorReply, SurfaceErrorFilter } from '../../surface-error.filter';
import { ProfileRpcErrorDto } from './profile-rpc.dto';

/**
 * 000's errors. Its document shows none; the product was a NestJS service, so its clients know
 * NestJS's default exception body: `{statusCode, message, error}`, `message` a list for validation.
 */
@Catch()
export class ProfileRpcErrorFilter extends SurfaceErrorFilter {
  protected render(error: DomainError): ErrorReply {
    const status = httpStatusOf(error);
    const message = error.details.fields ? error.details.fields.map((field) => field.message) : error.message;
    return { status, body: { statusCode: status, message, error: STATUS_CODES[status] ?? 'Error' } };
  }

  protected renderInternal(): ErrorReply {
    return { status: 500, body: { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' } };
  }
}

const example = (statusCode: number, message: string | string[]) => ({ statusCode, message, error: STATUS_CODES[statusCode] });

/** 000's documented errors. */
export const PROFILE_RPC_ERRORS: SurfaceErrors = {
  model: ProfileRpcErrorDto,
  mediaType: 'application/json',
  errors: {
    400: { description: 'Invalid input, a weak password, or a wrong or expired code.', example: example(400, ['email must be an email']) },
    401: { description: 'Missing, invalid or revoked bearer token.', example: example(401, 'an access token is required') },
    403: { description: 'The account is blocked.', example: example(403, 'this account is blocked') },
    409: { description: 'The e-mail or phone belongs to another account.', example: example(409, 'this e-mail is already registered') },
    413: { description: 'The request body is larger than 64 KiB.', example: example(413, 'the request body is larger than 64 KiB') },
    414: { description: 'A path segment of the URL is longer than 100 characters.', example: example(414, 'a path segment of the URL is too long') },
    429: {
      description: "A code was sent recently, too many requests or profile changes, or the account's daily e-mail cap reached; see Retry-After.",
      example: example(429, 'a message was sent recently; try again in 42 s'),
    },
    500: { description: 'A fault of ours (logged).', example: { statusCode: 500, message: 'Internal server error', error: 'Internal Server Error' } },
    503: {
      description: 'The database cannot be reached in time; see Retry-After.',
      example: example(503, 'the service is temporarily unavailable; try again shortly'),
    },
  },
};

/** Documents 000's error responses. */
export const ApiProfileRpcErrors = errorResponsesDecorator(PROFILE_RPC_ERRORS);
