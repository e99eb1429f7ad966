import { startApp, TestApp } from './support/app';
import { registerAndLogin, SignedInUser } from './support/users';

/** Bodies a careless or hostile client sends: none of them may cost a 500. */
const ODD_BODIES = ['[]', '"text"', 'null', '123', 'true', '{"a":{"b":[1,{"c":null}]}}', '{bad json', '{"email":{"$gt":""},"password":["x"],"phone":1e400,"code":-1}'];

interface Operation {
  method: string;
  path: string;
}

/**
 * Every operation in the OpenAPI document (so every surface, and every route added later), hit
 * with odd bodies, with and without a token: the answer is always a 2xx/4xx, never a 5xx.
 */
describe('every documented operation refuses odd input with a 4xx, never a 500', () => {
  let t: TestApp;
  let operations: Operation[];
  let user: SignedInUser;

  beforeAll(async () => {
    t = await startApp();
    user = await registerAndLogin(t.http);
    const { body: doc } = await t.http.get('/docs-json');
    operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000') })),
    );
  });
  afterAll(() => t.close());

  it('covers the operations of every surface', () => {
    const paths = operations.map((operation) => operation.path);
    for (const prefix of ['/v1/', '/api/users/', '/auth/login', '/users/', '/api/login', '/me/password']) {
      expect(paths.some((path) => path.startsWith(prefix))).toBe(true);
    }
  });

  it('answers each odd body below 500, with and without a token', async () => {
    const failures: string[] = [];
    for (const { method, path } of operations) {
      // Deleting the account would end the token for the operations after it.
      if (method === 'DELETE' && /\/(me|user)$/.test(path)) continue;
      for (const raw of ODD_BODIES) {
        for (const token of [undefined, user.accessToken]) {
          const res = await t.http.request(method, path, undefined, method === 'GET' ? { token } : { token, raw });
          if (res.status >= 500) failures.push(`${method} ${path} ${token ? 'with' : 'without'} token, body ${raw}: ${res.status} ${res.text.slice(0, 200)}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('answers a body over 64 KiB with 413 in the surface\'s own envelope (problem+json only on /v1)', async () => {
    const huge = JSON.stringify({ password: 'x'.repeat(100_000) });
    const wrong: string[] = [];
    for (const { method, path } of operations.filter((operation) => operation.method !== 'GET')) {
      const res = await t.http.request(method, path, undefined, { token: user.accessToken, raw: huge });
      const problemJson = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
      if (res.status !== 413 || problemJson !== path.startsWith('/v1/')) wrong.push(`${method} ${path}: ${res.status} ${res.headers.get('content-type')} ${res.text.slice(0, 120)}`);
    }
    expect(wrong).toEqual([]);
  });
});
