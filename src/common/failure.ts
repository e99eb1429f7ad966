import { HttpException, HttpStatus } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { DomainError } from './domain-error';

/**
 * Whatever a route threw, as a DomainError when it is the caller's fault, or null for a
 * server fault (the filters log those and answer a generic 500). Shared by every surface's filter.
 */
export function toDomainError(exception: unknown, reply: FastifyReply): DomainError | null {
  if (exception instanceof DomainError) return exception;
  if (exception instanceof ThrottlerException) {
    const retryAfter = Number(reply.getHeader('Retry-After')) || 60;
    return new DomainError('RateLimited', 'too many requests; try again later', { retryAfterSeconds: retryAfter });
  }
  if (exception instanceof HttpException && exception.getStatus() < 500) {
    const status = exception.getStatus();
    if (status === HttpStatus.NOT_FOUND) return new DomainError('NotFound', 'no such resource');
    return new DomainError('HttpError', exception.message, { status });
  }
  // Fastify's own client errors (e.g. body too large) carry a 4xx statusCode.
  const statusCode = (exception as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return new DomainError('HttpError', (exception as Error).message, { status: statusCode });
  }
  return null;
}

/** Sets Retry-After for the errors that have one. */
export function applyRetryAfter(reply: FastifyReply, error: DomainError): void {
  if (error.details.retryAfterSeconds !== undefined) reply.header('Retry-After', String(Math.max(1, Math.ceil(error.details.retryAfterSeconds))));
}
