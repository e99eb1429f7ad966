import { generateKeyPairSync } from 'node:crypto';
import { AuthService } from '../src/auth/auth.service';
import { GOOD_PASSWORD, startApp, TestApp, unique } from './support/app';
import { jwtPayload, quickUser, registerAndLogin } from './support/users';

describe('platform: keys, health, docs, logs, headers', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  it('publishes the public signing key as a JWK set, without private parts', async () => {
    const res = await t.http.get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.body.keys.length).toBeGreaterThanOrEqual(1);
    for (const key of res.body.keys) {
      expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(typeof key.kid).toBe('string');
      expect(key).not.toHaveProperty('d');
    }
  });

  it('signs access tokens with a kid listed in the JWK set', async () => {
    const user = await registerAndLogin(t.http);
    const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0], 'base64url').toString());
    const jwks = await t.http.get('/.well-known/jwks.json');
    expect(header.alg).toBe('ES256');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toContain(header.kid);
  });

  it('answers liveness and readiness (with the database check)', async () => {
    const live = await t.http.get('/health/live');
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    const ready = await t.http.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details.database.status).toBe('up');
  });

  it('serves Swagger UI at /docs and an OpenAPI 3 document at /docs-json covering every /v1 operation', async () => {
    const ui = await t.http.get('/docs', { notAnOperation: true });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const doc = await t.http.get('/docs-json', { notAnOperation: true });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    const expected: Array<[string, string]> = [
      ['/v1/auth/register', 'post'],
      ['/v1/auth/login', 'post'],
      ['/v1/auth/refresh', 'post'],
      ['/v1/auth/logout', 'post'],
      ['/v1/me', 'get'],
      ['/v1/me', 'patch'],
      ['/v1/me', 'delete'],
      ['/v1/me/password', 'put'],
      ['/v1/me/push-token', 'put'],
      ['/v1/me/sessions', 'get'],
      ['/v1/me/sessions', 'delete'],
      ['/v1/me/sessions/{id}', 'delete'],
      ['/v1/admin/users', 'get'],
      ['/v1/admin/users/{id}', 'get'],
      ['/v1/admin/users/{id}', 'patch'],
      ['/.well-known/jwks.json', 'get'],
      ['/health/live', 'get'],
      ['/health/ready', 'get'],
    ];
    for (const [path, method] of expected) {
      const operation = doc.body.paths[path]?.[method];
      expect({ path, method, documented: !!operation }).toEqual({ path, method, documented: true });
      expect(operation.operationId).toEqual(expect.any(String));
      expect(operation.tags.length).toBeGreaterThan(0);
      expect(operation.security).toBeDefined(); // public routes say `security: []`
    }
    expect(doc.body.servers).toEqual([expect.objectContaining({ url: '/' })]);
    // Errors are documented as problem+json.
    const login = doc.body.paths['/v1/auth/login'].post;
    expect(Object.keys(login.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
    expect(login.responses['401'].content['application/problem+json']).toBeDefined();
  });

  it('echoes a sane X-Request-Id and generates one otherwise', async () => {
    const given = await t.http.get('/health/live', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const generated = await t.http.get('/health/live', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends helmet security headers', async () => {
    const res = await t.http.get('/health/live');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('accepts a trailing slash on any route', async () => {
    const user = await registerAndLogin(t.http);
    expect((await t.http.get('/v1/me/', { token: user.accessToken })).status).toBe(200);
  });

  it('answers every documented operation of every surface the same with and without a trailing slash', async () => {
    const { body: doc } = await t.http.get('/docs-json', { notAnOperation: true });
    const differences: string[] = [];
    let compared = 0;
    for (const [documented, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (documented === '/') continue; // the root has no form without a slash
      const path = documented.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      const forms = [path.replace(/\/$/, ''), path.replace(/\/?$/, '/')];
      for (const method of Object.keys(item).filter((key) => ['get', 'post', 'put', 'patch', 'delete'].includes(key))) {
        const answers = [];
        for (const form of forms) {
          // A user and live token per request: a logout or deletion through one form leaves the other alone.
          const caller = await quickUser(t.app);
          const res = await t.http.request<any>(method.toUpperCase(), form, method === 'get' ? undefined : {}, { token: caller.accessToken });
          const routeMissing = res.status === 404 && res.body?.detail === 'no such resource';
          // Bodies differ in ids and `instance`; a handler's own 404 must still be the same one.
          const notFound = res.status === 404 ? { ...res.body, instance: undefined } : undefined;
          answers.push({ status: res.status, type: res.headers.get('content-type'), routeMissing, notFound });
        }
        compared++;
        const [bare, slashed] = answers;
        if (bare.routeMissing || JSON.stringify(bare) !== JSON.stringify(slashed)) {
          differences.push(`${method.toUpperCase()} ${documented}: ${forms[0]} → ${JSON.stringify(bare)}, ${forms[1]} → ${JSON.stringify(slashed)}`);
        }
      }
    }
    expect(differences).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(50);
  });

  it('answers unknown routes and oversized bodies with problem+json 4xx, never 500', async () => {
    const missing = await t.http.get('/no/such/route', { notAnOperation: true });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const huge = await t.http.post('/v1/auth/login', { login: 'x'.repeat(100_000), password: 'y' });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toContain('application/problem+json');
  });

  it('understands a JSON body sent without a JSON content type', async () => {
    const email = `${unique('plain')}@example.com`;
    const res = await t.http.post('/v1/auth/register', undefined, {
      raw: JSON.stringify({ email, password: GOOD_PASSWORD }),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(201);
    expect(res.body.email).toBe(email);
  });

  it('writes JSON logs with request ids and never a password, token or hash', async () => {
    const password = `Unmistakable-${unique()}-secret`;
    const user = await registerAndLogin(t.http, { password });
    await t.http.get('/v1/me', { token: user.accessToken, headers: { 'x-request-id': 'log-check-1' } });
    const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
    await t.http.post('/v1/auth/login', { login: user.email, password: 'wrong password here' });
    const text = t.logText();
    for (const secret of [password, user.accessToken, user.refreshToken, refreshed.body.refreshToken, refreshed.body.accessToken, '$argon2']) {
      expect(text.includes(secret)).toBe(false);
    }
    const line = t.logs.find((entry) => (entry.req as { id?: string } | undefined)?.id === 'log-check-1');
    expect(line).toMatchObject({ req: { method: 'GET', path: '/v1/me' }, res: { statusCode: 200 } });
  });
});

describe('platform: configured and shared signing keys', () => {
  it('signs with JWT_PRIVATE_KEY when it is set, and publishes only that key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const t = await startApp({ JWT_PRIVATE_KEY: pem });
    try {
      const user = await registerAndLogin(t.http);
      const jwks = await t.http.get('/.well-known/jwks.json');
      expect(jwks.body.keys).toHaveLength(1);
      const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0], 'base64url').toString());
      expect(header.kid).toBe(jwks.body.keys[0].kid);
      expect(jwks.body.keys[0].x).toBe(privateKey.export({ format: 'jwk' }).x);
      expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('two instances on one database publish the same generated key', async () => {
    const [a, b] = await Promise.all([startApp(), startApp()]);
    try {
      const [ka, kb] = await Promise.all([a.http.get('/.well-known/jwks.json'), b.http.get('/.well-known/jwks.json')]);
      expect(ka.body).toEqual(kb.body);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('first administrator (npm run cli -- create-admin)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  it('creates an administrator who can use the admin API', async () => {
    const email = `${unique('admin')}@example.com`;
    const result = await t.app.get(AuthService).ensureAdministrator({ email, password: GOOD_PASSWORD });
    expect(result.created).toBe(true);
    expect(result.user.role).toBe('administrator');
    const login = await t.http.post('/v1/auth/login', { login: email, password: GOOD_PASSWORD });
    expect(jwtPayload(login.body.accessToken).role).toBe('administrator');
    expect((await t.http.get('/v1/admin/users?limit=1', { token: login.body.accessToken })).status).toBe(200);
  });

  it('promotes an existing account instead of creating a second one', async () => {
    const user = await registerAndLogin(t.http);
    const result = await t.app.get(AuthService).ensureAdministrator({ email: user.email.toUpperCase() });
    expect(result).toMatchObject({ created: false, user: { id: user.id, role: 'administrator' } });
    const me = await t.http.get('/v1/me', { token: user.accessToken });
    expect(me.body.role).toBe('administrator');
  });
});

describe('platform: hostile bodies', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  it('refuses prototype-poisoning JSON with a 400 that says why', async () => {
    const res = await t.http.post('/v1/auth/login', undefined, {
      raw: '{"__proto__":{"role":"administrator"},"login":"a@example.com","password":"x"}',
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('MalformedBody');
    expect(res.body.detail).toContain('"__proto__"');
    expect(res.body.detail).not.toContain('not valid JSON');
  });

  it.each(['null', '[]', '123', '"text"'])('answers a JSON %s body with a 400 problem, not a 500', async (raw) => {
    const res = await t.http.post('/v1/auth/login', undefined, { raw });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('ValidationFailed');
  });
});
