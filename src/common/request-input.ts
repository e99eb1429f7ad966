import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { DomainError } from './domain-error';
import { RefusedBody } from './json-body';

/**
 * Characters no request string may carry (SPEC §9 rule 6): the C0 controls (NUL included) except
 * tab, line feed and carriage return, DEL and the C1 controls; and an unpaired UTF-16 surrogate
 * (a JSON `\ud800` escape), which has no UTF-8 form.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isCleanText(value: string): boolean {
  return !FORBIDDEN.test(value);
}

/**
 * Where in `value` the first string (or object key) that is not clean text sits, as a field path
 * (`email`, `a.b`, `items.0`; a bad key is reported at its parent), or undefined when all are clean.
 * Bodies are at most MAX_JSON_DEPTH deep (the parser refuses deeper ones), so recursion is bounded.
 */
export function uncleanTextAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return isCleanText(value) ? undefined : path;
  if (value === null || typeof value !== 'object') return undefined;
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((item, index) => [String(index), item]) : Object.entries(value);
  for (const [key, inner] of entries) {
    if (!isCleanText(key)) return path;
    const found = uncleanTextAt(inner, path === BODY ? key : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The field name of errors about the body as a whole. */
export const BODY = 'body';

/** Query objects whose text was not valid percent-encoded UTF-8 (kept aside, so the object itself stays plain). */
const MALFORMED_QUERIES = new WeakSet<object>();

/**
 * Fastify's query string parser. Fastify's default leaves a malformed escape (`%FF`, `%C3%28`) as
 * raw text, indistinguishable from a well-encoded `%25FF`; this one marks the whole query instead,
 * and RequestInputGuard refuses it. Repeated names give arrays, as before.
 */
export function parseQueryString(text: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((equals < 0 ? pair : pair.slice(0, equals)).replace(/\+/g, ' '));
      value = equals < 0 ? '' : decodeURIComponent(pair.slice(equals + 1).replace(/\+/g, ' '));
    } catch {
      MALFORMED_QUERIES.add(query);
      return query;
    }
    const previous = query[name];
    query[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return query;
}

const unclean = (field: string) => DomainError.validation([{ field, message: `${field} must not contain control characters` }]);

/**
 * The first global guard, before authentication: input the service never reads. A body the parser
 * refused (not JSON, not UTF-8, too deep, too large); a body that is not a JSON object; a query
 * string that is not valid UTF-8; a control character in any path parameter, query name or value,
 * body string or key. Each is the surface's own 400 (413), thrown inside the route so its filter answers.
 */
@Injectable()
export class RequestInputGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { body, query, params } = context.switchToHttp().getRequest<{ body?: unknown; query?: object; params?: Record<string, unknown> }>();
    if (body instanceof RefusedBody) throw body.error();
    if (query && MALFORMED_QUERIES.has(query))
      throw new DomainError('HttpError', 'the query string is not valid: a malformed percent-encoding or invalid UTF-8');
    for (const [name, value] of [...Object.entries(params ?? {}), ...Object.entries(query ?? {})]) {
      if (!isCleanText(name)) throw unclean('query');
      const at = uncleanTextAt(value, name);
      if (at !== undefined) throw unclean(name);
    }
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
      throw DomainError.validation([{ field: BODY, message: `the request body must be a JSON object, not ${jsonTypeOf(body)}` }]);
    }
    const at = uncleanTextAt(body, BODY);
    if (at !== undefined) throw unclean(at);
    return true;
  }
}

/** The JSON type of a parsed value, for messages: `null`, `an array`, `a string`… */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
