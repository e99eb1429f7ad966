import type { FastifyInstance } from 'fastify';
import * as secureJson from 'secure-json-parse';
import { DomainError } from './domain-error';

/** The largest body a route accepts. */
export const BODY_LIMIT = 64 * 1024;
/**
 * Fastify stops reading beyond this and answers 413 itself (before routing: in the envelope of the
 * surface the path belongs to, see api/surfaces.ts). Between BODY_LIMIT and this, the body is
 * marked and the route's own filter answers the 413.
 */
export const READ_LIMIT = 1024 * 1024;
/** Objects and arrays nested deeper than this are refused before anything walks them (SPEC §9 rule 6). */
export const MAX_JSON_DEPTH = 32;

/**
 * Stands in for a body the parser refused, so that `RequestInputGuard` can throw its error inside
 * the route's context, where the route's own filter answers (e.g. 004 → 21003 for bad JSON).
 */
export class RefusedBody {
  constructor(readonly error: () => DomainError) {}
}

const malformed = (message: string) => new RefusedBody(() => new DomainError('MalformedBody', message));
export const UNPARSEABLE_BODY = malformed('the request body is not valid JSON');
export const INVALID_UTF8_BODY = malformed('the request body is not valid UTF-8');
export const TOO_DEEP_BODY = malformed(`the request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
export const PROTOTYPE_KEY_BODY = malformed('the request body has a "__proto__" key or a "constructor" key holding "prototype", which are refused');
export const OVERSIZED_BODY = new RefusedBody(() => new DomainError('HttpError', `the request body is larger than ${BODY_LIMIT / 1024} KiB`, { status: 413 }));

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as JSON, or a RefusedBody: larger than BODY_LIMIT, not valid UTF-8 (never silently
 * replaced with U+FFFD), nested deeper than MAX_JSON_DEPTH (counted on the text, before parsing, so
 * no deep structure is ever built), or not JSON. Blank → undefined (no body).
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length > BODY_LIMIT) return OVERSIZED_BODY;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return INVALID_UTF8_BODY;
  }
  if (text.trim() === '') return undefined;
  if (nestedDeeperThan(text, MAX_JSON_DEPTH)) return TOO_DEEP_BODY;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return UNPARSEABLE_BODY;
  }
  // Like Fastify's own parser: `__proto__` / `constructor.prototype` keys are refused (prototype poisoning).
  const poisoned = value !== null && typeof value === 'object' && secureJson.scan(value, { safe: true }) === null;
  return poisoned ? PROTOTYPE_KEY_BODY : value;
}

/** Whether JSON text opens more than `limit` objects/arrays inside each other (brackets in strings do not count). */
export function nestedDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Replaces Fastify's JSON parser (which answers bad JSON itself, in its own envelope) with one that
 * marks a refused body and lets the request reach Nest (see RefusedBody).
 */
export function registerLenientBodyParsers(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  const parse = (_request: unknown, body: Buffer, done: (error: Error | null, value?: unknown) => void) => done(null, parseJsonBody(body));
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: READ_LIMIT }, parse);
  fastify.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: 'buffer', bodyLimit: READ_LIMIT }, parse);
  // Clients that forget the content type but send JSON (common with old mobile apps) are still understood.
  fastify.addContentTypeParser(['text/plain', '*'], { parseAs: 'buffer', bodyLimit: READ_LIMIT }, parse);
}
