import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, DomainErrorKind } from '../../common/domain-error';
import { applyRetryAfter, toDomainError } from '../../common/failure';

/** The /v1 error table: domain error kind → HTTP status and RFC 9457 title. */
export const PROBLEM_TABLE: Record<DomainErrorKind, { status: number; title: string }> = {
  ValidationFailed: { status: 400, title: 'Invalid request' },
  MalformedBody: { status: 400, title: 'Malformed request body' },
  IdentifierRequired: { status: 400, title: 'Identifier required' },
  InvalidPhone: { status: 400, title: 'Invalid phone number' },
  InvalidUsername: { status: 400, title: 'Invalid username' },
  WeakPassword: { status: 400, title: 'Password does not meet the policy' },
  Unauthenticated: { status: 401, title: 'Authentication required' },
  InvalidCredentials: { status: 401, title: 'Invalid credentials' },
  InvalidToken: { status: 401, title: 'Invalid access token' },
  InvalidRefreshToken: { status: 401, title: 'Invalid refresh token' },
  SessionRevoked: { status: 401, title: 'Session ended' },
  WrongPassword: { status: 403, title: 'Wrong current password' },
  AccountBlocked: { status: 403, title: 'Account blocked' },
  Forbidden: { status: 403, title: 'Forbidden' },
  NotFound: { status: 404, title: 'Not found' },
  UserNotFound: { status: 404, title: 'User not found' },
  EmailTaken: { status: 409, title: 'E-mail already registered' },
  UsernameTaken: { status: 409, title: 'Username already taken' },
  PhoneTaken: { status: 409, title: 'Phone already registered' },
  AccountLocked: { status: 429, title: 'Account temporarily locked' },
  RateLimited: { status: 429, title: 'Too many requests' },
  InvalidCode: { status: 400, title: 'Invalid or expired code' },
  ContactMissing: { status: 400, title: 'Nothing to send the code to' },
  AlreadyVerified: { status: 409, title: 'Already verified' },
  ResendTooSoon: { status: 429, title: 'Code sent too recently' },
  HttpError: { status: 400, title: 'Bad request' },
};

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The machine-readable error kind, e.g. `InvalidCredentials`. */
  code: string;
  instance?: string;
  errors?: { field: string; message: string }[];
}

export function problemFor(error: DomainError, instance?: string): ProblemDetails {
  const entry = PROBLEM_TABLE[error.kind];
  const status = error.kind === 'HttpError' ? (error.details.status ?? 400) : entry.status;
  const slug = error.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
  return {
    type: `urn:problem:identity:${slug}`,
    title: entry.title,
    status,
    detail: error.message,
    code: error.kind,
    ...(instance ? { instance } : {}),
    ...(error.details.fields ? { errors: error.details.fields } : {}),
  };
}

/** RFC 9457 `application/problem+json` for /v1 and for everything outside the legacy surfaces. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const error = toDomainError(exception, reply);
    if (!error) {
      this.logger.error({ err: exception }, 'unhandled error');
      void reply
        .status(500)
        .type('application/problem+json')
        .send({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'Something went wrong on our side.', code: 'Internal' });
      return;
    }
    applyRetryAfter(reply, error);
    const problem = problemFor(error, request.url.split('?')[0]);
    void reply.status(problem.status).type('application/problem+json').send(problem);
  }
}
