import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { errorResponsesDecorator, SurfaceErrors } from '../../error-responses';

export class FieldErrorDto {
  @ApiProperty({ example: 'email' }) field: string;
  @ApiProperty({ example: 'email must be an email' }) message: string;
}

export class ProblemDto {
  @ApiProperty({ example: 'urn:problem:identity:invalid-credentials' }) type: string;
  @ApiProperty({ example: 'Invalid credentials' }) title: string;
  @ApiProperty({ example: 401 }) status: number;
  @ApiProperty({ example: 'wrong login or password' }) detail: string;
  @ApiProperty({ example: 'InvalidCredentials', description: 'Machine-readable error kind.' }) code: string;
  @ApiPropertyOptional({ example: '/v1/auth/login' }) instance?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Per-field problems of a 400.' }) errors?: FieldErrorDto[];
}

const example = (code: string, title: string, status: number, detail: string, extra: object = {}) => ({
  type: `urn:problem:identity:${code.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
  title,
  status,
  detail,
  code,
  ...extra,
});

/** /v1's documented errors (RFC 9457 problem+json); `code` is the machine-readable kind. */
export const PROBLEMS: SurfaceErrors = {
  model: ProblemDto,
  mediaType: 'application/problem+json',
  errors: {
    400: {
      description: 'Invalid input (validation, malformed JSON, password policy, a wrong or expired code, a passkey response that does not verify).',
      example: example('ValidationFailed', 'Invalid request', 400, 'email: email must be an email', {
        errors: [{ field: 'email', message: 'email must be an email' }],
      }),
    },
    401: {
      description:
        'Missing, invalid or revoked credentials; a wrong second factor (WrongSecondFactor); a challenge that is unknown, expired, used or out of tries (MfaChallengeInvalid).',
      example: example('Unauthenticated', 'Authentication required', 401, 'an access token is required'),
    },
    403: {
      description:
        'Not allowed (role, blocked account, wrong current password, no fresh proof: ReauthenticationRequired, or StepUpRequired for an account with a second factor).',
      example: example('Forbidden', 'Forbidden', 403, 'this operation needs another role'),
    },
    404: { description: 'Not found.', example: example('NotFound', 'Not found', 404, 'no such resource') },
    409: {
      description:
        'Conflict: e-mail, username or phone already in use, already verified, a factor already enrolled (AlreadyEnrolled), or no second factor to act on (NoSecondFactor).',
      example: example('EmailTaken', 'E-mail already registered', 409, 'this e-mail is already registered'),
    },
    413: {
      description: 'The request body is larger than 64 KiB.',
      example: example('HttpError', 'Payload too large', 413, 'the request body is larger than 64 KiB'),
    },
    414: {
      description: 'A path segment of the URL is longer than 100 characters.',
      example: example('HttpError', 'URI too long', 414, 'a path segment of the URL is too long'),
    },
    429: {
      description:
        "Too many attempts or requests (per address or per account), a code sent too recently, or the account's daily message cap reached; the Retry-After header says when to try again.",
      example: example('RateLimited', 'Too many requests', 429, 'too many requests; try again in 42 s'),
    },
    500: {
      description: 'A fault of ours (logged); nothing to fix on the client side.',
      example: { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'Something went wrong on our side.', code: 'Internal' },
    },
    503: {
      description: 'The database cannot be reached in time (pool exhausted or server down); Retry-After says when to try again.',
      example: example('ServiceUnavailable', 'Service temporarily unavailable', 503, 'the service is temporarily unavailable; try again shortly'),
    },
  },
};

/** Documents the RFC 9457 problem responses an operation can return. */
export const ApiProblems = errorResponsesDecorator(PROBLEMS);
