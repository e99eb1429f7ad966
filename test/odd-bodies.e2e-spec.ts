import { startApp, TestApp } from './support/app';
import { quickUser } from './support/users';

/** Bodies a careless or hostile client sends: none of them may cost a 500. */
const ODD_BODIES = [
  '[]',
  '"text"',
  'null',
  '123',
  'true',
  '{"a":{"b":[1,{"c":null}]}}',
  '{bad json',
  '{"email":{"$gt":""},"password":["x"],"phone":1e400,"code":-1}',
];

/** Operations that end the caller's session or account when their handler runs: their token may die. */
const ENDS_SESSION = new Set(['POST /v1/auth/logout', 'GET /api/logout', 'DELETE /v1/me', 'DELETE /users/user']);

interface Operation {
  method: string;
  path: string;
}

/**
 * Every operation in the OpenAPI document (so every surface, and every route added later), hit
 * with odd bodies, with and without a token: the answer is always a 2xx/4xx, never a 5xx. Each
 * request with a token gets a live one of its own, so it reaches the handler rather than the guard.
 */
describe('every documented operation refuses odd input with a 4xx, never a 500', () => {
  let t: TestApp;
  let operations: Operation[];

  beforeAll(async () => {
    t = await startApp();
    const { body: doc } = await t.http.get('/docs-json', { notAnOperation: true });
    operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(() => t.close());

  const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');

  it('covers the operations of every surface', () => {
    const paths = operations.map((operation) => operation.path);
    for (const prefix of ['/v1/', '/api/users/', '/auth/login', '/users/', '/api/login', '/me/password']) {
      expect(paths.some((path) => path.startsWith(prefix))).toBe(true);
    }
  });

  it('answers each odd body below 500, without a token and with a live one of its own', async () => {
    const failures: string[] = [];
    const expectedAlive: Array<{ request: string; accessToken: string }> = [];
    for (const { method, path } of operations) {
      // A GET carries no body: one round is enough.
      for (const raw of method === 'GET' ? ['(none)'] : ODD_BODIES) {
        // An administrator, so the admin routes reach their handlers too; a user of its own, so
        // logging out or deleting the account ends nothing another request relies on.
        const caller = await quickUser(t.app, { role: 'administrator' });
        for (const token of [undefined, caller.accessToken]) {
          const res = await t.http.request(method, concrete(path), undefined, method === 'GET' ? { token } : { token, raw });
          const request = `${method} ${path} ${token ? 'with' : 'without'} token, body ${raw}`;
          if (res.status >= 500) failures.push(`${request}: ${res.status} ${res.text.slice(0, 200)}`);
          // A live token that gets 401 never reached the handler: the sweep would test nothing.
          if (token && res.status === 401) failures.push(`${request}: 401 with a live token ${res.text.slice(0, 200)}`);
        }
        if (!ENDS_SESSION.has(`${method} ${path}`)) expectedAlive.push({ request: `${method} ${path}, body ${raw}`, accessToken: caller.accessToken });
      }
    }
    expect(failures).toEqual([]);
    // Nothing but logging out or deleting the account may have ended the caller's session.
    const dead: string[] = [];
    for (const { request, accessToken } of expectedAlive) {
      const me = await t.http.get('/v1/me', { token: accessToken });
      if (me.status !== 200) dead.push(`${request}: the token then got ${me.status}`);
    }
    expect(dead).toEqual([]);
  });

  it("answers a body over 64 KiB with 413 in the surface's own envelope (problem+json only on /v1)", async () => {
    const caller = await quickUser(t.app);
    const huge = JSON.stringify({ password: 'x'.repeat(100_000) });
    const wrong: string[] = [];
    for (const { method, path } of operations.filter((operation) => operation.method !== 'GET')) {
      const res = await t.http.request(method, concrete(path), undefined, { token: caller.accessToken, raw: huge });
      const problemJson = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
      if (res.status !== 413 || problemJson !== path.startsWith('/v1/'))
        wrong.push(`${method} ${path}: ${res.status} ${res.headers.get('content-type')} ${res.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });
});
