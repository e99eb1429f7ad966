import { randomBytes } from 'node:crypto';
import { startApp, TestApp } from './support/app';
import { HttpResponse } from './support/http';
import { quickUser } from './support/users';

/**
 * SPEC §9 rule 6, generated from the OpenAPI document (so every surface, and every route added
 * later): each operation, with and without a live token of its own, gets hostile input one piece at
 * a time. Every answer is a 4xx (never a 5xx) in the surface's own envelope, and nothing in the
 * database changes.
 */

/** Characters no request string may carry; each is tried in every string field, query value and path parameter. */
const CONTROLS = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\ud800'];
/** What a number field or query parameter gets: out of range, or not a number at all. */
const EXTREME_NUMBERS: unknown[] = [1e308, -1, 2 ** 53 + 1, 'NaN', 'Infinity', '1e308', '-1', '9007199254740993'];
const EXTREME_QUERY_NUMBERS = ['1e308', '-1', '999999999', '9007199254740993', 'NaN', 'Infinity', '0x7fffffff'];
/** Bytes that are not UTF-8 (in a body, and percent-encoded in a URL). */
const INVALID_UTF8 = [Buffer.from([0xff, 0xfe]), Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80])];
const percentEncoded = (bytes: Buffer) => [...bytes].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
const DEEP = 5000;
/** Bodies that are not an object, or not JSON. */
const ODD_BODIES = ['null', '[]', '[{}]', '"text"', '123', 'true', '{bad json', '{"a":1,}'];

type Surface = 'v1' | '000' | '001' | '002' | '003' | '004';
/** One segment at the root: the document's `/{userId}` (001), whatever the segment holds. */
const ROOT_SEGMENT = /^\/[^/]+\/?$/;

/** SPEC §7: who owns a path; anything else (health, JWKS, unknown paths) answers problem+json like /v1. */
function surfaceOf(path: string): Surface {
  if (/^\/api\/users(\/|$)/.test(path)) return '000';
  if (/^\/(api(\/|$)|$)/.test(path)) return '003';
  if (/^\/auth\//.test(path)) return '001';
  if (/^\/users\//.test(path)) return '002';
  if (/^\/me\/password\/?$/.test(path)) return '004';
  if (ROOT_SEGMENT.test(path)) return '001';
  return 'v1';
}

const isStringList = (value: unknown) => Array.isArray(value) && value.every((item) => typeof item === 'string');

/** Whether an error answer is in the surface's documented envelope. */
const ENVELOPES: Record<Surface, (res: HttpResponse) => boolean> = {
  v1: (res) =>
    /^application\/problem\+json/.test(res.headers.get('content-type') ?? '') &&
    typeof res.body?.type === 'string' &&
    typeof res.body.title === 'string' &&
    typeof res.body.detail === 'string' &&
    res.body.status === res.status,
  '000': (res) => res.body?.statusCode === res.status && (typeof res.body.message === 'string' || isStringList(res.body.message)),
  '001': (res) => res.body?.status === 'error' && typeof res.body.message === 'string' && Object.keys(res.body).length === 2,
  '002': (res) =>
    typeof res.body?.detail === 'string' ||
    (!!res.body &&
      typeof res.body === 'object' &&
      !Array.isArray(res.body) &&
      Object.values(res.body).length > 0 &&
      Object.values(res.body).every(isStringList)),
  '003': (res) => res.body?.status === 'ERR' && typeof res.body.msg === 'string',
  '004': (res) => Number.isInteger(res.body?.code) && res.body.code >= 21001 && res.body.code <= 21015 && typeof res.body.message === 'string',
};

interface Schema {
  $ref?: string;
  type?: string;
  minimum?: number;
  maximum?: number;
  format?: string;
  example?: unknown;
  oneOf?: Schema[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
}

interface Operation {
  method: string;
  template: string;
  pathParams: { name: string; schema: Schema }[];
  query: { name: string; schema: Schema }[];
  body?: Schema;
}

interface Caller {
  token: string;
  id: string;
  sessionId: string;
}

/** A hostile request; its answer must be a 4xx in the surface's envelope, or with `mayPass` also a 2xx/3xx. */
interface Probe {
  label: string;
  path: string;
  query?: string;
  raw?: string | Uint8Array;
  mayPass?: boolean;
}

const typesOf = (schema: Schema): string[] =>
  [schema.type, ...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].flatMap((s) => (typeof s === 'string' ? [s] : s?.type ? [s.type] : []));
const isNumber = (schema: Schema) => typesOf(schema).some((type) => type === 'number' || type === 'integer');
/** A plain decimal within the schema's documented minimum and maximum (002's `limit` has no maximum: above 100 counts as 100). */
const inDocumentedRange = (text: string, schema: Schema) =>
  /^-?\d+$/.test(text) && (schema.minimum === undefined || Number(text) >= schema.minimum) && (schema.maximum === undefined || Number(text) <= schema.maximum);
const isString = (schema: Schema) => typesOf(schema).includes('string') || typesOf(schema).length === 0;

describe("hostile input on every documented operation: a 4xx in the surface's envelope, never a 500, nothing changed", () => {
  let t: TestApp;
  let operations: Operation[];
  let schemas: Record<string, Schema>;

  beforeAll(async () => {
    t = await startApp();
    const { body: doc } = await t.http.get('/docs-json', { notAnOperation: true });
    schemas = doc.components.schemas;
    const resolve = (schema: Schema | undefined): Schema | undefined => (schema?.$ref ? schemas[schema.$ref.split('/').pop()!] : schema);
    operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([template, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, op]) => ({
          method: method.toUpperCase(),
          template,
          pathParams: (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path'),
          query: (op.parameters ?? []).filter((p: { in: string }) => p.in === 'query'),
          body: resolve(op.requestBody?.content?.['application/json']?.schema),
        })),
    );
  });
  afterAll(() => t.close());

  /** A fresh account signed in for one operation (no e-mail, so nothing goes to the outbox); an administrator for admin routes. */
  /** A fresh user with a live session of its own (administrator for the admin routes), made without HTTP or argon2 work. */
  async function callerFor(operation: Operation): Promise<Caller> {
    const caller = await quickUser(t.app, operation.template.startsWith('/v1/admin/') ? { role: 'administrator' } : {});
    return { token: caller.accessToken, id: caller.id, sessionId: caller.sessionId };
  }

  /** The path with plausible parameters (the caller's own ids, so a request that got through would reach real rows). */
  function pathFor(operation: Operation, caller: Caller, override?: { name: string; value: string }): string {
    return operation.template.replace(/\{([^}]+)\}/g, (_, name: string) => {
      if (override?.name === name) return override.value;
      if (operation.template.includes('/sessions/')) return caller.sessionId;
      return name === 'token' ? randomBytes(32).toString('base64url') : caller.id;
    });
  }

  /** A body with every documented field set to its example (or a harmless stand-in); hostile values replace one at a time. */
  function baseBody(schema: Schema): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(schema.properties ?? {}).map(([name, property]) => {
        const resolved = property.$ref ? schemas[property.$ref.split('/').pop()!] : property;
        if (resolved.example !== undefined) return [name, resolved.example];
        return [name, isNumber(resolved) ? 1 : resolved.type === 'boolean' ? false : 'sample'];
      }),
    );
  }

  function probesFor(operation: Operation, caller: Caller): Probe[] {
    const path = pathFor(operation, caller);
    const probes: Probe[] = [];
    // (An unpaired surrogate has no percent-encoding: its CESU-8 bytes are among INVALID_UTF8.)
    const queryValues = [...CONTROLS.filter((c) => c !== '\ud800').map((c) => encodeURIComponent(`a${c}b`)), ...INVALID_UTF8.map(percentEncoded)];
    // Path parameters: control characters, bytes that are not UTF-8, an over-long segment.
    for (const { name } of operation.pathParams) {
      for (const value of [...queryValues, 'x'.repeat(300)]) {
        const hostilePath = pathFor(operation, caller, { name, value });
        probes.push({ label: `path ${name}=${value.slice(0, 20)}`, path: hostilePath });
      }
    }
    // Query parameters, documented ones and one that is not: control characters and invalid UTF-8 …
    for (const name of [...operation.query.map((q) => q.name), 'unexpected']) {
      for (const value of queryValues) probes.push({ label: `query ${name}=${value}`, path, query: `${name}=${value}` });
    }
    // … and extreme numbers: refused in number parameters unless inside the documented range; a string parameter may take them as text.
    for (const { name, schema } of operation.query) {
      for (const value of EXTREME_QUERY_NUMBERS) {
        const mayPass = !isNumber(schema ?? {}) || inDocumentedRange(value, schema);
        probes.push({ label: `query ${name}=${value}`, path, query: `${name}=${encodeURIComponent(value)}`, mayPass });
      }
    }
    if (operation.method === 'GET') return probes;

    // Bodies: not UTF-8, nested 5,000 deep, not an object, a control character in a key.
    const field = Object.keys(operation.body?.properties ?? {})[0] ?? 'field';
    for (const bytes of INVALID_UTF8) {
      probes.push({ label: `body with bytes ${percentEncoded(bytes)}`, path, raw: Buffer.concat([Buffer.from(`{"${field}":"a`), bytes, Buffer.from('b"}')]) });
    }
    probes.push({ label: 'body: arrays 5000 deep', path, raw: '['.repeat(DEEP) + ']'.repeat(DEEP) });
    probes.push({ label: 'body: objects 5000 deep', path, raw: `{"${field}":`.repeat(DEEP) + '1' + '}'.repeat(DEEP) });
    for (const raw of ODD_BODIES) probes.push({ label: `body ${raw}`, path, raw });
    // Operator objects in every documented field (an object body, so 002's PATCH may answer 200 with each field under `error`).
    const fields = Object.keys(operation.body?.properties ?? {});
    if (fields.length)
      probes.push({ label: 'body: operators', path, raw: JSON.stringify(Object.fromEntries(fields.map((name) => [name, { $gt: '' }]))), mayPass: true });
    probes.push({ label: 'body: control character in a key', path, raw: JSON.stringify({ ...baseBody(operation.body ?? {}), 'key\u0000': 'x' }) });

    // Every documented string field, one at a time: a control character; every number field: extreme numbers.
    for (const [name, property] of Object.entries(operation.body?.properties ?? {})) {
      if (isString(property)) {
        for (const c of CONTROLS) {
          const body = { ...baseBody(operation.body!), [name]: `sam${c}ple` };
          probes.push({ label: `body ${name}=${JSON.stringify(c)}`, path, raw: JSON.stringify(body) });
        }
      }
      if (isNumber(property)) {
        // 002's PATCH answers 200 with each refused field under `error` (its document's way of refusing).
        const mayPass = `${operation.method} ${operation.template}` === 'PATCH /users/user';
        for (const value of EXTREME_NUMBERS)
          probes.push({ label: `body ${name}=${JSON.stringify(value)}`, path, raw: `{"${name}":${JSON.stringify(value)}}`, mayPass });
      }
    }
    return probes;
  }

  /** A digest of every table a request could change. */
  async function databaseDigest(): Promise<Record<string, string>> {
    const digest: Record<string, string> = {};
    for (const table of ['users', 'sessions', 'refresh_tokens', 'verification_secrets', 'send_cooldowns', 'outbox_messages']) {
      const [row] = await t.db.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) AS md5 FROM ${table} t`);
      digest[table] = `${row.n}:${row.md5}`;
    }
    return digest;
  }

  it('covers the operations of every surface', () => {
    const paths = operations.map((operation) => operation.template);
    for (const prefix of ['/v1/', '/api/users/', '/auth/login', '/{userId}', '/users/', '/api/login', '/api/reset_password/', '/me/password']) {
      expect(paths.some((path) => path.startsWith(prefix))).toBe(true);
    }
    expect(operations.some((operation) => operation.query.length)).toBe(true);
    expect(operations.filter((operation) => Object.values(operation.body?.properties ?? {}).some(isNumber)).length).toBeGreaterThanOrEqual(3);
  });

  it("answers every probe with a 4xx in the surface's envelope and changes nothing in the database", async () => {
    const callers = new Map<Operation, Caller>();
    for (const operation of operations) callers.set(operation, await callerFor(operation));
    const before = await databaseDigest();

    const failures: string[] = [];
    let sent = 0;
    for (const operation of operations) {
      const caller = callers.get(operation)!;
      for (const probe of probesFor(operation, caller)) {
        for (const token of [undefined, caller.token]) {
          const url = probe.query ? `${probe.path}?${probe.query}` : probe.path;
          const res = await t.http.request(operation.method, url, undefined, { token, raw: probe.raw });
          sent++;
          const surface = surfaceOf(probe.path.split('?')[0]);
          const refused = res.status >= 400 && res.status < 500;
          const ok = probe.mayPass ? res.status < 400 || (refused && ENVELOPES[surface](res)) : refused && ENVELOPES[surface](res);
          if (!ok) {
            failures.push(
              `${operation.method} ${operation.template} ${probe.label} ${token ? 'with' : 'without'} token → ${res.status} [${surface}] ${res.text.slice(0, 160)}`,
            );
          }
        }
      }
    }
    expect(failures.slice(0, 40)).toEqual([]);
    expect(sent).toBeGreaterThan(2000);
    expect(await databaseDigest()).toEqual(before);
    // Thousands of requests: more room than the default 60 s on a busy 2-core machine.
  }, 180_000);

  it("answers a body over 64 KiB with 413 in the surface's own envelope, and one over 1 MiB too", async () => {
    const caller = await callerFor(operations[0]);
    const wrong: string[] = [];
    for (const { method, template } of operations.filter((operation) => operation.method !== 'GET')) {
      const path = template.replace(/\{[^}]+\}/g, caller.id);
      for (const size of [100_000, 1_100_000]) {
        const res = await t.http.request(method, path, undefined, { token: caller.token, raw: JSON.stringify({ password: 'x'.repeat(size) }) });
        if (res.status !== 413 || !ENVELOPES[surfaceOf(path)](res))
          wrong.push(`${method} ${path} ${size}: ${res.status} ${res.headers.get('content-type')} ${res.text.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
