import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import * as secureJson from 'secure-json-parse';
import { DomainError } from './domain-error';

/** Stands in for a body that is not valid JSON, so the surface's own filter can answer (e.g. 004 → 21003). */
export const UNPARSEABLE_BODY = Symbol('unparseable body');
/** Stands in for a body over BODY_LIMIT, so the surface's own filter can answer its 413 (e.g. 004 → 21002). */
export const OVERSIZED_BODY = Symbol('oversized body');

/** The largest body a route accepts. */
export const BODY_LIMIT = 64 * 1024;
/**
 * Fastify stops reading beyond this and answers 413 itself (outside any route, so in problem+json).
 * Between BODY_LIMIT and this, the body is marked and the route's own filter answers the 413.
 */
export const READ_LIMIT = 1024 * 1024;

/**
 * Replaces Fastify's JSON parser (which answers bad JSON itself, in its own envelope) with one that
 * marks the body and lets the request reach Nest; `RequestBodyGuard` then throws `MalformedBody`
 * inside the route's context, where the route's exception filter sees it.
 */
export function registerLenientBodyParsers(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  const parse = (_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    if (Buffer.byteLength(body) > BODY_LIMIT) return done(null, OVERSIZED_BODY);
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    try {
      // Like Fastify's own parser: `__proto__` / `constructor.prototype` keys are refused (prototype poisoning).
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(null, UNPARSEABLE_BODY);
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: READ_LIMIT }, parse);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string', bodyLimit: READ_LIMIT }, parse);
  // Clients that forget the content type but send JSON (common with old mobile apps) are still understood.
  fastify.addContentTypeParser(['text/plain', '*'], { parseAs: 'string', bodyLimit: READ_LIMIT }, parse);
}

/** First global guard: a body that is not JSON, or too large, fails here, before authentication. */
@Injectable()
export class RequestBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { body } = context.switchToHttp().getRequest<{ body?: unknown }>();
    if (body === UNPARSEABLE_BODY) throw new DomainError('MalformedBody', 'the request body is not valid JSON');
    if (body === OVERSIZED_BODY) throw new DomainError('HttpError', `the request body is larger than ${BODY_LIMIT / 1024} KiB`, { status: 413 });
    return true;
  }
}
