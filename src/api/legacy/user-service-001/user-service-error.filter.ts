import { Catch } from '@nestjs/common';
import { DomainError } from '../../../common/domain-error';
import { httpStatusOf } from '../../../common/failure';
import { errorResponsesDecorator, SurfaceErrors } from '../../error-responses';
import { ErrorReply, messageOf, SurfaceErrorFilter } from '../../surface-error.filter';
import { UserServiceErrorDto } from './user-service.dto';

const envelope = (message: string) => ({ status: 'error', message });

/** 001's errors: `{"status":"error","message":…}` with the proper HTTP status. */
@Catch()
export class UserServiceErrorFilter extends SurfaceErrorFilter {
  protected render(error: DomainError): ErrorReply {
    return { status: httpStatusOf(error), body: envelope(messageOf(error)) };
  }

  protected renderInternal(): ErrorReply {
    return { status: 500, body: envelope('internal error') };
  }
}

/** 001's documented errors. */
export const USER_SERVICE_ERRORS: SurfaceErrors = {
  model: UserServiceErrorDto,
  mediaType: 'application/json',
  errors: {
    400: { description: 'Invalid input, a malformed body, or a password that fails the policy.', example: envelope('email must be an email') },
    401: {
      description:
        'Wrong login or password, or a missing, invalid or revoked token. An account with a second factor signs in with an app password: ' +
        'its account password alone gets the same answer with a hint to use one.',
      example: envelope('wrong login or password'),
    },
    403: {
      description: "Another user's account (administrators excepted), or a blocked account.",
      example: envelope('only the user themself or an administrator may do this'),
    },
    404: { description: 'No user with this id (administrators only; others get 403), or a path that is not a UUID.', example: envelope('no such user') },
    409: { description: 'The username, e-mail or phone is taken.', example: envelope('this e-mail is already registered') },
    413: { description: 'The request body is larger than 64 KiB.', example: envelope('the request body is larger than 64 KiB') },
    414: { description: 'A path segment of the URL is longer than 100 characters.', example: envelope('a path segment of the URL is too long') },
    429: {
      description: 'Too many failed sign-ins (account locked), requests or profile changes; see Retry-After.',
      example: envelope('too many failed sign-ins; try again later'),
    },
    500: { description: 'A fault of ours (logged).', example: envelope('internal error') },
    503: {
      description: 'The database cannot be reached in time; see Retry-After.',
      example: envelope('the service is temporarily unavailable; try again shortly'),
    },
  },
};

/** Documents 001's error responses. */
export const ApiUserServiceErrors = errorResponsesDecorator(USER_SERVICE_ERRORS);
