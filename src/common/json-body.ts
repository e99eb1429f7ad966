import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import * as secureJson from 'secure-json-parse';
import { DomainError } from './domain-error';

/** Stands in for a body that is not valid JSON, so the surface's own filter can answer (e.g. 004 → 21003). */
export const UNPARSEABLE_BODY = Symbol('unparseable body');

/**
 * Replaces Fastify's JSON parser (which answers bad JSON itself, in its own envelope) with one that
 * marks the body and lets the request reach Nest; `RequestBodyGuard` then throws `MalformedBody`
 * inside the route's context, where the route's exception filter sees it.
 */
export function registerLenientBodyParsers(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  const parse = (_request: unknown, body: string | Buffer, done: (error: Error | null, value?: unknown) => void) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    try {
      // Like Fastify's own parser: `__proto__` / `constructor.prototype` keys are refused (prototype poisoning).
      done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(null, UNPARSEABLE_BODY);
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parse);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'string' }, parse);
  // Clients that forget the content type but send JSON (common with old mobile apps) are still understood.
  fastify.addContentTypeParser(['text/plain', '*'], { parseAs: 'string' }, parse);
}

/** First global guard: a body that is not JSON fails here, before authentication. */
@Injectable()
export class RequestBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.switchToHttp().getRequest<{ body?: unknown }>().body === UNPARSEABLE_BODY) {
      throw new DomainError('MalformedBody', 'the request body is not valid JSON');
    }
    return true;
  }
}
