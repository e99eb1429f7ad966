import { Catch } from '@nestjs/common';
import { DomainError, DomainErrorKind } from '../../../common/domain-error';
import { httpStatusOf } from '../../../common/failure';
import { errorResponsesDecorator, SurfaceErrors } from '../../error-responses';
import { ErrorReply, messageOf, SurfaceErrorFilter } from '../../surface-error.filter';
import { UserAccountErrorDto } from './user-account.dto';
import { USERNAME_NOT_ALLOWED } from './user-account.presenter';

const envelope = (msg: string) => ({ status: 'ERR', msg });

/** Messages the document fixes for every route of the surface. */
const DOCUMENTED: Partial<Record<DomainErrorKind, string>> = { InvalidUsername: USERNAME_NOT_ALLOWED };

/**
 * 003's errors: `{"status":"ERR","msg":…}` with the proper HTTP status (Retry-After on 429s).
 * A route whose document fixes another message for a kind passes it in, e.g.
 * `@UseFilters(new UserAccountErrorFilter({ InvalidCode: 'user not found.' }))`.
 */
@Catch()
export class UserAccountErrorFilter extends SurfaceErrorFilter {
  private readonly messages: Partial<Record<DomainErrorKind, string>>;

  constructor(routeMessages: Partial<Record<DomainErrorKind, string>> = {}) {
    super();
    this.messages = { ...DOCUMENTED, ...routeMessages };
  }

  protected render(error: DomainError): ErrorReply {
    return { status: httpStatusOf(error), body: envelope(this.messages[error.kind] ?? messageOf(error)) };
  }

  protected renderInternal(): ErrorReply {
    return { status: 500, body: envelope('internal error') };
  }
}

const ERRORS: SurfaceErrors['errors'] = {
  400: {
    description: 'Invalid input or malformed JSON, a username that is not allowed, or a weak password.',
    example: envelope(USERNAME_NOT_ALLOWED),
  },
  401: {
    description:
      'Wrong login or password, or a missing, invalid or revoked token. An account with a second factor signs in with an app password: ' +
      'its account password alone gets the same answer with a hint to use one.',
    example: envelope('wrong login or password'),
  },
  403: { description: 'The account is blocked.', example: envelope('this account is blocked') },
  409: { description: 'The username, e-mail or phone is taken.', example: envelope('this e-mail is already registered') },
  429: {
    description: 'Too many failed sign-ins (account locked), a link sent less than a minute ago, or too many requests; see Retry-After.',
    example: envelope('a message was sent recently; try again in 42 s'),
  },
  413: { description: 'The request body is larger than 64 KiB.', example: envelope('the request body is larger than 64 KiB') },
  414: { description: 'A path segment of the URL is longer than 100 characters.', example: envelope('a path segment of the URL is too long') },
  500: { description: 'A fault of ours (logged).', example: envelope('internal error') },
  503: {
    description: 'The database cannot be reached in time; see Retry-After.',
    example: envelope('the service is temporarily unavailable; try again shortly'),
  },
};

/** 003's documented errors. */
export const USER_ACCOUNT_ERRORS: SurfaceErrors = { model: UserAccountErrorDto, mediaType: 'application/json', errors: ERRORS };

/** Documents 003's error responses. */
export const ApiUserAccountErrors = errorResponsesDecorator(USER_ACCOUNT_ERRORS);

/** The same for the routes that take a link token, whose 400 the document words per route. */
export const ApiUserAccountTokenErrors = (invalidTokenMessage: string, ...statuses: number[]) =>
  errorResponsesDecorator({
    ...USER_ACCOUNT_ERRORS,
    errors: {
      ...ERRORS,
      400: {
        description: `A bad, used or expired link token ("${invalidTokenMessage}"), invalid input or malformed JSON, or a weak password.`,
        example: envelope(invalidTokenMessage),
      },
    },
  })(...statuses);
