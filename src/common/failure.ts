import { HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isDatabaseUnavailable } from '../database/connection-failure';
import { DomainError, DomainErrorKind } from './domain-error';

/** What a client is told when no database connection could be had; it may retry after this many seconds. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 2;

/**
 * The HTTP status of each domain error, shared by every surface (SPEC §7: proper status codes
 * everywhere; a surface differs only in its envelope, unless its document says otherwise).
 */
export const HTTP_STATUS: Record<DomainErrorKind, number> = {
  ValidationFailed: 400,
  MalformedBody: 400,
  IdentifierRequired: 400,
  InvalidPhone: 400,
  InvalidUsername: 400,
  WeakPassword: 400,
  InvalidCode: 400,
  ContactMissing: 400,
  PasskeyRejected: 400,
  Unauthenticated: 401,
  InvalidCredentials: 401,
  InvalidToken: 401,
  InvalidRefreshToken: 401,
  SessionRevoked: 401,
  AppPasswordRequired: 401,
  MfaChallengeInvalid: 401,
  WrongSecondFactor: 401,
  WrongPassword: 403,
  ReauthenticationRequired: 403,
  StepUpRequired: 403,
  AccountBlocked: 403,
  Forbidden: 403,
  NotFound: 404,
  UserNotFound: 404,
  EmailTaken: 409,
  UsernameTaken: 409,
  PhoneTaken: 409,
  AlreadyVerified: 409,
  AlreadyEnrolled: 409,
  NoSecondFactor: 409,
  AccountLocked: 429,
  RateLimited: 429,
  ResendTooSoon: 429,
  ServiceUnavailable: 503,
  HttpError: 400,
};

export function httpStatusOf(error: DomainError): number {
  return error.kind === 'HttpError' ? (error.details.status ?? 400) : HTTP_STATUS[error.kind];
}

/** Fastify errors whose own message repeats the URL (which may carry a link token): said without it. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'the URL is not valid: a malformed percent-encoding or invalid UTF-8',
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment of the URL is too long',
};

/**
 * Whatever a route threw, as a DomainError when it is the caller's fault or a database that
 * cannot be reached (503: the client may retry), or null for a server fault (the filters log
 * those and answer a generic 500). Shared by every surface's filter.
 */
export function toDomainError(exception: unknown): DomainError | null {
  if (exception instanceof DomainError) return exception;
  if (isDatabaseUnavailable(exception)) {
    return new DomainError('ServiceUnavailable', 'the service is temporarily unavailable; try again shortly', {
      retryAfterSeconds: UNAVAILABLE_RETRY_AFTER_SECONDS,
    });
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    const status = exception.getStatus();
    if (status === HttpStatus.NOT_FOUND) return new DomainError('NotFound', 'no such resource');
    return new DomainError('HttpError', exception.message, { status });
  }
  // Fastify's own client errors (e.g. body too large) carry a 4xx statusCode.
  const { statusCode, code } = (exception ?? {}) as { statusCode?: unknown; code?: unknown };
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const message = FASTIFY_MESSAGES[String(code)] ?? (exception as Error).message;
    return new DomainError('HttpError', message, { status: statusCode });
  }
  return null;
}

/** Sets Retry-After for the errors that have one. */
export function applyRetryAfter(reply: FastifyReply, error: DomainError): void {
  if (error.details.retryAfterSeconds !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(error.details.retryAfterSeconds))));
}
