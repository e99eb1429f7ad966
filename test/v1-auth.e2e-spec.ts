import { createHash } from 'node:crypto';
import { expireLock, lockState } from './support/lockout';
import { GOOD_PASSWORD, startApp, TestApp, unique, uniquePhone } from './support/app';
import { HttpResponse } from './support/http';
import { jwtPayload, registerAndLogin } from './support/users';
import { allKeys, expectProblem } from './support/expect';

/** /v1 register, login, logout, refresh, lockout and per-IP limits (SPEC §3–§7), over real HTTP. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function freshEmail(): string {
  return `${unique('mail')}@example.com`;
}

/** "+79XXXXXXXXX" → "8 9XX XXX-XX-XX", the way Russians type it. */
function russianStyle(e164: string): string {
  const d = e164.slice(2);
  return `8 ${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`;
}

/** "+79XXXXXXXXX" → "+7 (9XX) XXX XX XX". */
function bracketStyle(e164: string): string {
  const d = e164.slice(2);
  return `+7 (${d.slice(0, 3)}) ${d.slice(3, 6)} ${d.slice(6, 8)} ${d.slice(8)}`;
}

function jwtHeader(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

function expectJson(res: HttpResponse, status: number): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/** The distinct fields a ValidationFailed problem names, sorted. */
function errorFields(res: HttpResponse): string[] {
  return [...new Set((res.body.errors as { field: string }[]).map((e) => e.field))].sort();
}

function expectNoSecrets(res: HttpResponse): void {
  expect(res.text).not.toContain('$argon2');
  expect(allKeys(res.body).filter((key) => /password|hash/i.test(key))).toEqual([]);
}

function retryAfter(res: HttpResponse): number {
  return Number(res.headers.get('retry-after'));
}

describe('/v1 auth', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  describe('POST /v1/auth/register', () => {
    it('creates the account: 201 with the user, e-mail lower-cased, "8 9XX…" phone stored as E.164', async () => {
      const local = unique('Mixed.Case');
      const phone = uniquePhone();
      const username = unique('Anna');
      const res = await t.http.post('/v1/auth/register', {
        email: `${local}@Example.COM`,
        username,
        phone: russianStyle(phone),
        password: GOOD_PASSWORD,
        name: 'Anna',
        surname: 'Petrova',
      });
      expectJson(res, 201);
      expect(res.body).toMatchObject({
        id: expect.stringMatching(UUID),
        email: `${local.toLowerCase()}@example.com`,
        emailVerified: false,
        username,
        phone,
        phoneVerified: false,
        name: 'Anna',
        surname: 'Petrova',
        role: 'user',
        status: 'active',
        userType: 'ind',
        authClient: 'local',
        autoUpdating: false,
        autoPaying: false,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    });

    it('never returns the password or its hash', async () => {
      const password = `Distinctive-${unique()}-phrase`;
      const res = await t.http.post('/v1/auth/register', { email: freshEmail(), password });
      expectJson(res, 201);
      expectNoSecrets(res);
      expect(res.text).not.toContain(password);
    });

    it('400 ValidationFailed when the password is missing, naming the field', async () => {
      const res = await t.http.post('/v1/auth/register', { email: freshEmail() });
      expectProblem(res, 400, 'ValidationFailed');
      expect(errorFields(res)).toEqual(['password']);
    });

    it('400 ValidationFailed for an invalid e-mail, naming the field', async () => {
      const res = await t.http.post('/v1/auth/register', { email: 'not-an-email', password: GOOD_PASSWORD });
      expectProblem(res, 400, 'ValidationFailed');
      expect(errorFields(res)).toEqual(['email']);
    });

    it('400 WeakPassword for a password shorter than PASSWORD_MIN_LENGTH (8)', async () => {
      const res = await t.http.post('/v1/auth/register', { email: freshEmail(), password: 'Ab3$xyz' });
      expectProblem(res, 400, 'WeakPassword');
    });

    it('400 WeakPassword for a common password (any case)', async () => {
      for (const password of ['password123', 'PassWord123']) {
        const res = await t.http.post('/v1/auth/register', { email: freshEmail(), password });
        expectProblem(res, 400, 'WeakPassword');
      }
    });

    it('400 WeakPassword for a password equal to the e-mail', async () => {
      const email = freshEmail();
      const res = await t.http.post('/v1/auth/register', { email, password: email });
      expectProblem(res, 400, 'WeakPassword');
    });

    it('400 IdentifierRequired without an e-mail, username or phone', async () => {
      const res = await t.http.post('/v1/auth/register', { password: GOOD_PASSWORD, name: 'Nobody' });
      expectProblem(res, 400, 'IdentifierRequired');
    });

    it('400 InvalidPhone for a phone that is not a number', async () => {
      for (const phone of ['12345', 'call me maybe', '+7 123']) {
        const res = await t.http.post('/v1/auth/register', { phone, password: GOOD_PASSWORD });
        expectProblem(res, 400, 'InvalidPhone');
      }
    });

    it('400 InvalidUsername for a username starting with a digit', async () => {
      const res = await t.http.post('/v1/auth/register', { username: `1${unique('abc')}`, password: GOOD_PASSWORD });
      expectProblem(res, 400, 'InvalidUsername');
    });

    it('400 InvalidUsername for a reserved username (any case)', async () => {
      for (const username of ['root', 'Root', 'support']) {
        const res = await t.http.post('/v1/auth/register', { username, password: GOOD_PASSWORD });
        expectProblem(res, 400, 'InvalidUsername');
      }
    });

    it('400 MalformedBody for a body that is not JSON', async () => {
      const res = await t.http.post('/v1/auth/register', undefined, { raw: '{"email":' });
      expectProblem(res, 400, 'MalformedBody');
      expect(res.body.instance).toBe('/v1/auth/register');
    });

    it('409 EmailTaken for an e-mail already registered in another case', async () => {
      const local = unique('dup');
      expectJson(await t.http.post('/v1/auth/register', { email: `${local}@example.com`, password: GOOD_PASSWORD }), 201);
      const res = await t.http.post('/v1/auth/register', { email: `${local.toUpperCase()}@EXAMPLE.com`, password: GOOD_PASSWORD });
      expectProblem(res, 409, 'EmailTaken');
    });

    it('409 UsernameTaken for a username already taken in another case', async () => {
      const username = unique('Taken');
      expectJson(await t.http.post('/v1/auth/register', { username, password: GOOD_PASSWORD }), 201);
      const res = await t.http.post('/v1/auth/register', { username: username.toUpperCase(), email: freshEmail(), password: GOOD_PASSWORD });
      expectProblem(res, 409, 'UsernameTaken');
    });

    it('409 PhoneTaken for a phone already registered, written in another format', async () => {
      const phone = uniquePhone();
      expectJson(await t.http.post('/v1/auth/register', { phone, password: GOOD_PASSWORD }), 201);
      for (const other of [russianStyle(phone), bracketStyle(phone)]) {
        const res = await t.http.post('/v1/auth/register', { phone: other, email: freshEmail(), password: GOOD_PASSWORD });
        expectProblem(res, 409, 'PhoneTaken');
      }
    });

    it('10 concurrent registrations of one e-mail: exactly one 201 and nine 409 EmailTaken, never 500', async () => {
      const email = freshEmail();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => t.http.post('/v1/auth/register', { email: i % 2 ? email.toUpperCase() : email, password: GOOD_PASSWORD })),
      );
      const statuses = results.map((res) => res.status).sort();
      expect(statuses).toEqual([201, ...Array(9).fill(409)]);
      for (const res of results.filter((r) => r.status === 409)) expectProblem(res, 409, 'EmailTaken');
      const [{ count }] = await t.db.query('SELECT count(*)::int AS count FROM users WHERE lower(email) = lower($1)', [email]);
      expect(count).toBe(1);
    });
  });

  describe('POST /v1/auth/login', () => {
    async function register(overrides: Record<string, unknown> = {}) {
      const body = { email: freshEmail(), username: unique('Login'), phone: uniquePhone(), password: GOOD_PASSWORD, ...overrides };
      const res = await t.http.post('/v1/auth/register', body);
      expectJson(res, 201);
      return { ...body, id: res.body.id as string };
    }

    /** `sent`: Date.now() just before the sign-in request, so the lifetimes are bounded by the clock. */
    async function expectSignedIn(res: HttpResponse, userId: string, sent: number, refreshTtl = 86400): Promise<void> {
      const elapsed = Math.ceil((Date.now() - sent) / 1000);
      expectJson(res, 200);
      expect(res.body).toMatchObject({
        accessToken: expect.any(String),
        tokenType: 'Bearer',
        expiresIn: 900,
        refreshToken: expect.any(String),
        sessionId: expect.stringMatching(UUID),
        user: expect.objectContaining({ id: userId }),
      });
      expect(res.body.refreshExpiresIn).toBeGreaterThanOrEqual(refreshTtl - elapsed);
      expect(res.body.refreshExpiresIn).toBeLessThanOrEqual(refreshTtl);
      // ≥ 256 random bits, base64url: at least 43 characters, opaque (not a JWT).
      expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expectNoSecrets(res);
      const claims = jwtPayload(res.body.accessToken);
      expect(claims).toMatchObject({ sub: userId, sid: res.body.sessionId, role: 'user' });
      // Signed between `sent` and now, for 900 s.
      expect(claims.exp).toBeGreaterThanOrEqual(Math.floor(sent / 1000) + 900);
      expect(claims.exp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 900);
    }

    it('signs in by e-mail in any case: token pair, session id = JWT sid, and the user', async () => {
      const user = await register();
      const sent = Date.now();
      const res = await t.http.post('/v1/auth/login', { login: user.email.toUpperCase(), password: GOOD_PASSWORD });
      await expectSignedIn(res, user.id, sent);
      expect(res.body.user.email).toBe(user.email);
    });

    it('signs in by username in any case', async () => {
      const user = await register();
      const sent = Date.now();
      const res = await t.http.post('/v1/auth/login', { login: user.username.toLowerCase(), password: GOOD_PASSWORD });
      await expectSignedIn(res, user.id, sent);
      expect(res.body.user.username).toBe(user.username);
    });

    it('signs in by phone written in another format', async () => {
      const user = await register();
      for (const login of [russianStyle(user.phone), bracketStyle(user.phone)]) {
        const sent = Date.now();
        const res = await t.http.post('/v1/auth/login', { login, password: GOOD_PASSWORD });
        await expectSignedIn(res, user.id, sent);
        expect(res.body.user.phone).toBe(user.phone);
      }
    });

    it('signs the access token with ES256 and a kid published at /.well-known/jwks.json', async () => {
      const user = await register();
      const res = await t.http.post('/v1/auth/login', { login: user.email, password: GOOD_PASSWORD });
      expectJson(res, 200);
      const header = jwtHeader(res.body.accessToken);
      expect(header).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
      const jwks = await t.http.get('/.well-known/jwks.json');
      expectJson(jwks, 200);
      expect(jwks.body.keys).toEqual(expect.arrayContaining([expect.objectContaining({ kid: header.kid, alg: 'ES256', kty: 'EC' })]));
      expect(Object.keys(jwtPayload(res.body.accessToken))).toEqual(expect.arrayContaining(['sub', 'sid', 'role', 'exp']));
    });

    it('each sign-in creates its own session', async () => {
      const user = await register();
      const first = await t.http.post('/v1/auth/login', { login: user.email, password: GOOD_PASSWORD });
      const second = await t.http.post('/v1/auth/login', { login: user.email, password: GOOD_PASSWORD });
      expectJson(first, 200);
      expectJson(second, 200);
      expect(second.body.sessionId).not.toBe(first.body.sessionId);
      expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
    });

    it('rememberMe: true keeps the session for REMEMBER_ME_TTL (30 days)', async () => {
      const user = await register();
      const sent = Date.now();
      const res = await t.http.post('/v1/auth/login', { login: user.email, password: GOOD_PASSWORD, rememberMe: true });
      await expectSignedIn(res, user.id, sent, 2592000);
    });

    it('401 InvalidCredentials for a wrong password', async () => {
      const user = await register();
      const res = await t.http.post('/v1/auth/login', { login: user.email, password: 'Wrong-but-long-enough 1' });
      expectProblem(res, 401, 'InvalidCredentials');
      expect(res.body.instance).toBe('/v1/auth/login');
    });

    it('401 for an unknown account, with the same body as a wrong password (no enumeration)', async () => {
      const user = await register();
      const wrong = await t.http.post('/v1/auth/login', { login: user.email, password: 'Wrong-but-long-enough 1' });
      const unknown = await t.http.post('/v1/auth/login', { login: freshEmail(), password: 'Wrong-but-long-enough 1' });
      expectProblem(unknown, 401, 'InvalidCredentials');
      const { instance: _a, ...wrongBody } = wrong.body;
      const { instance: _b, ...unknownBody } = unknown.body;
      expect(unknownBody).toEqual(wrongBody);
      expect(unknown.headers.get('content-type')).toBe(wrong.headers.get('content-type'));
    });

    it('400 ValidationFailed without login or password, naming the fields', async () => {
      const empty = await t.http.post('/v1/auth/login', {});
      expectProblem(empty, 400, 'ValidationFailed');
      expect(errorFields(empty)).toEqual(['login', 'password']);

      const noPassword = await t.http.post('/v1/auth/login', { login: freshEmail() });
      expectProblem(noPassword, 400, 'ValidationFailed');
      expect(errorFields(noPassword)).toEqual(['password']);

      const noLogin = await t.http.post('/v1/auth/login', { password: GOOD_PASSWORD });
      expectProblem(noLogin, 400, 'ValidationFailed');
      expect(errorFields(noLogin)).toEqual(['login']);
    });
  });

  describe('POST /v1/auth/logout', () => {
    it('204 with an empty body', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
    });

    it('the access token of the ended session is refused at once', async () => {
      const user = await registerAndLogin(t.http);
      expectJson(await t.http.get('/v1/me', { token: user.accessToken }), 200);
      expect((await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      const res = await t.http.get('/v1/me', { token: user.accessToken });
      expectProblem(res, 401, 'SessionRevoked');
    });

    it('the refresh token of the ended session is refused', async () => {
      const user = await registerAndLogin(t.http);
      expect((await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      const res = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expectProblem(res, 401, 'InvalidRefreshToken');
    });

    it('ends only its own session: another session of the user keeps working', async () => {
      const user = await registerAndLogin(t.http);
      const other = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expectJson(other, 200);
      expect((await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      expectJson(await t.http.get('/v1/me', { token: other.body.accessToken }), 200);
    });

    it('401 Unauthenticated without a token', async () => {
      const res = await t.http.post('/v1/auth/logout');
      expectProblem(res, 401, 'Unauthenticated');
    });
  });

  describe('POST /v1/auth/refresh', () => {
    it('rotates: a new refresh token and a new working access token for the same session', async () => {
      const user = await registerAndLogin(t.http);
      const sent = Date.now();
      const res = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      const elapsed = Math.ceil((Date.now() - sent) / 1000);
      expectJson(res, 200);
      expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, sessionId: user.sessionId });
      expect(res.body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(res.body.refreshToken).not.toBe(user.refreshToken);
      expect(res.body.refreshExpiresIn).toBeGreaterThanOrEqual(86400 - elapsed); // the session slid forward by a full day
      expect(res.body.refreshExpiresIn).toBeLessThanOrEqual(86400);
      expect(jwtPayload(res.body.accessToken)).toMatchObject({ sub: user.id, sid: user.sessionId, role: 'user' });
      const me = await t.http.get('/v1/me', { token: res.body.accessToken });
      expectJson(me, 200);
      expect(me.body.id).toBe(user.id);
    });

    it('the rotated token can be used again for the next rotation', async () => {
      const user = await registerAndLogin(t.http);
      const first = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expectJson(first, 200);
      const second = await t.http.post('/v1/auth/refresh', { refreshToken: first.body.refreshToken });
      expectJson(second, 200);
      expect(second.body.refreshToken).not.toBe(first.body.refreshToken);
      expectJson(await t.http.get('/v1/me', { token: second.body.accessToken }), 200);
    });

    it('grace: the previous token retried within 5 s gets the same refresh token as the rotation and a fresh access token', async () => {
      const user = await registerAndLogin(t.http);
      const rotated = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expectJson(rotated, 200);
      const retry = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expectJson(retry, 200);
      expect(retry.body.sessionId).toBe(user.sessionId);
      // One live refresh token per session: the retry gets the rotation's, not a second one.
      expect(retry.body.refreshToken).toBe(rotated.body.refreshToken);
      expect(retry.body.accessToken).not.toBe(rotated.body.accessToken);
      expect(jwtPayload(retry.body.accessToken)).toMatchObject({ sub: user.id, sid: user.sessionId });
      expectJson(await t.http.get('/v1/me', { token: retry.body.accessToken }), 200);
      // The pair from the first rotation (the other tab) is still good.
      expectJson(await t.http.get('/v1/me', { token: rotated.body.accessToken }), 200);
      expectJson(await t.http.post('/v1/auth/refresh', { refreshToken: rotated.body.refreshToken }), 200);
    });

    it('stores only the SHA-256 of each refresh token it hands out, never the token itself', async () => {
      const user = await registerAndLogin(t.http);
      const rotated = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expectJson(rotated, 200);
      const sha256 = (token: string) => createHash('sha256').update(token).digest();

      const rows: { token_hash: Buffer; generation: number }[] = await t.db.query(
        'SELECT token_hash, generation FROM refresh_tokens WHERE session_id = $1 ORDER BY generation',
        [user.sessionId],
      );

      expect(rows).toEqual([
        { token_hash: sha256(user.refreshToken), generation: 0 },
        { token_hash: sha256(rotated.body.refreshToken), generation: 1 },
      ]);
      const stored = Buffer.concat(rows.map((row) => row.token_hash)).toString('latin1');
      for (const token of [user.refreshToken, rotated.body.refreshToken]) expect(stored).not.toContain(token);
    });

    it('401 InvalidRefreshToken for a token we never issued', async () => {
      const res = await t.http.post('/v1/auth/refresh', { refreshToken: 'garbage-' + unique() });
      expectProblem(res, 401, 'InvalidRefreshToken');
    });

    it('400 ValidationFailed without a refresh token', async () => {
      const res = await t.http.post('/v1/auth/refresh', {});
      expectProblem(res, 400, 'ValidationFailed');
      expect(errorFields(res)).toEqual(['refreshToken']);
    });

    describe('after the grace window (REFRESH_REUSE_GRACE_SECONDS=0)', () => {
      let strict: TestApp;
      beforeAll(async () => (strict = await startApp({ REFRESH_REUSE_GRACE_SECONDS: '0' })));
      afterAll(() => strict.close());

      const pause = () => new Promise((resolve) => setTimeout(resolve, 50));

      it('reusing an already-rotated token is 401 InvalidRefreshToken', async () => {
        const user = await registerAndLogin(strict.http);
        expectJson(await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 200);
        await pause();
        const reuse = await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
        expectProblem(reuse, 401, 'InvalidRefreshToken');
      });

      it('reuse revokes the whole session: the newest refresh token and the access token die too', async () => {
        const user = await registerAndLogin(strict.http);
        const rotated = await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
        expectJson(rotated, 200);
        expectJson(await strict.http.get('/v1/me', { token: rotated.body.accessToken }), 200);
        await pause();
        expectProblem(await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 401, 'InvalidRefreshToken');

        expectProblem(await strict.http.post('/v1/auth/refresh', { refreshToken: rotated.body.refreshToken }), 401, 'InvalidRefreshToken');
        expectProblem(await strict.http.get('/v1/me', { token: rotated.body.accessToken }), 401, 'SessionRevoked');
        expectProblem(await strict.http.get('/v1/me', { token: user.accessToken }), 401, 'SessionRevoked');
      });

      it('reuse of an older token (two rotations back) also revokes the session', async () => {
        const user = await registerAndLogin(strict.http);
        const first = await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
        expectJson(first, 200);
        await pause();
        const second = await strict.http.post('/v1/auth/refresh', { refreshToken: first.body.refreshToken });
        expectJson(second, 200);
        await pause();
        expectProblem(await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 401, 'InvalidRefreshToken');
        expectProblem(await strict.http.post('/v1/auth/refresh', { refreshToken: second.body.refreshToken }), 401, 'InvalidRefreshToken');
        expectProblem(await strict.http.get('/v1/me', { token: second.body.accessToken }), 401, 'SessionRevoked');
      });

      it("reuse leaves the user's other sessions alone", async () => {
        const user = await registerAndLogin(strict.http);
        const other = await strict.http.post('/v1/auth/login', { login: user.email, password: user.password });
        expectJson(other, 200);
        expectJson(await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 200);
        await pause();
        expectProblem(await strict.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 401, 'InvalidRefreshToken');
        expectJson(await strict.http.get('/v1/me', { token: other.body.accessToken }), 200);
      });
    });
  });

  describe('per-account lockout (SPEC §6)', () => {
    const WRONG = 'Definitely-not-it 99';

    async function failSignIns(login: string, times: number): Promise<void> {
      for (let i = 0; i < times; i++) {
        const res = await t.http.post('/v1/auth/login', { login, password: WRONG });
        expectProblem(res, 401, 'InvalidCredentials');
      }
    }

    it('each further failure doubles the lock, up to the 15-minute cap from the 14th failure on (stored and answered)', async () => {
      const user = await registerAndLogin(t.http);
      await failSignIns(user.email, 9);
      for (let failures = 10; failures <= 15; failures++) {
        // Lift the lock but keep the count, so the next wrong password is counted instead of refused.
        await t.db.query(`UPDATE credentials SET locked_until = NULL WHERE user_id = $1 AND type = 'password'`, [user.id]);
        const before = Date.now();
        await failSignIns(user.email, 1);
        const after = Date.now();
        const seconds = Math.min(900, 60 * 2 ** (failures - 10)); // 60, 120, 240, 480, 900, 900

        const state = await lockState(t.db, user.id);
        expect({ failures, count: state.failed_count }).toEqual({ failures, count: failures });
        // Stored: the failed request's time plus the lock.
        expect(state.locked_until!.getTime()).toBeGreaterThanOrEqual(before + seconds * 1000 - 1);
        expect(state.locked_until!.getTime()).toBeLessThanOrEqual(after + seconds * 1000 + 1);

        const res = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
        const answered = Date.now();
        expectProblem(res, 429, 'AccountLocked');
        // Answered: what is left of the lock, so at most the lock and less only by the time that passed.
        expect(retryAfter(res)).toBeLessThanOrEqual(seconds);
        expect(retryAfter(res)).toBeGreaterThanOrEqual(seconds - Math.ceil((answered - before) / 1000));
      }
    });

    it('after 10 wrong passwords the 11th attempt, even with the right password, is 429 AccountLocked with Retry-After ≤ 60', async () => {
      const user = await registerAndLogin(t.http);
      await failSignIns(user.email, 10);
      const res = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expectProblem(res, 429, 'AccountLocked');
      expect(retryAfter(res)).toBeGreaterThanOrEqual(1);
      expect(retryAfter(res)).toBeLessThanOrEqual(60);
      expect(res.body.accessToken).toBeUndefined();
    });

    it('the lock holds whichever identifier is used (username, phone)', async () => {
      const user = await registerAndLogin(t.http);
      await failSignIns(user.email, 10);
      for (const login of [user.username.toUpperCase(), russianStyle(user.phone)]) {
        const res = await t.http.post('/v1/auth/login', { login, password: user.password });
        expectProblem(res, 429, 'AccountLocked');
      }
    });

    it('9 failures do not lock, and a success resets the count', async () => {
      const user = await registerAndLogin(t.http);
      await failSignIns(user.email, 9);
      expect((await lockState(t.db, user.id)).failed_count).toBe(9);
      expectJson(await t.http.post('/v1/auth/login', { login: user.email, password: user.password }), 200);
      expect(await lockState(t.db, user.id)).toEqual({ failed_count: 0, locked_until: null });
    });

    it('once the lock has expired the correct password signs in and resets the failure count to 0', async () => {
      const user = await registerAndLogin(t.http);
      await failSignIns(user.email, 10);
      expect((await lockState(t.db, user.id)).failed_count).toBe(10);
      await expireLock(t.db, user.id);

      const res = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expectJson(res, 200);
      expect(res.body.user.id).toBe(user.id);
      expect(await lockState(t.db, user.id)).toEqual({ failed_count: 0, locked_until: null });
    });

    it('a further failure after the lock expires locks again for twice as long (2 minutes)', async () => {
      const user = await registerAndLogin(t.http);
      await failSignIns(user.email, 10);
      await expireLock(t.db, user.id);
      await failSignIns(user.email, 1);
      const res = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expectProblem(res, 429, 'AccountLocked');
      expect(retryAfter(res)).toBeGreaterThan(60);
      expect(retryAfter(res)).toBeLessThanOrEqual(120);
    });
  });

  describe('per-IP rate limit on sign-in', () => {
    const LIMITED_ENV = { TRUST_PROXY: '127.0.0.1', RATE_LIMIT_ALLOWLIST: '', AUTH_RATE_LIMIT_PER_MINUTE: '3' };
    const WRONG = 'Definitely-not-it 99';
    let nextOctet = 1 + Math.floor(Math.random() * 200);
    const testNetAddress = () => `203.0.113.${nextOctet++}`;

    describe('with no allowlist', () => {
      let limited: TestApp;
      beforeAll(async () => (limited = await startApp(LIMITED_ENV)));
      afterAll(() => limited.close());

      it('the 4th attempt in a minute from one X-Forwarded-For address is 429 RateLimited with Retry-After', async () => {
        const { email } = await registerAndLogin(t.http);
        const ip = testNetAddress();
        for (let i = 0; i < 3; i++) {
          const res = await limited.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': ip } });
          expectProblem(res, 401, 'InvalidCredentials');
        }
        const fourth = await limited.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': ip } });
        expectProblem(fourth, 429, 'RateLimited');
        expect(retryAfter(fourth)).toBeGreaterThanOrEqual(1);
        expect(retryAfter(fourth)).toBeLessThanOrEqual(60);
      });

      it("another address is not limited by the first one's budget", async () => {
        const { email } = await registerAndLogin(t.http);
        const busy = testNetAddress();
        for (let i = 0; i < 4; i++) {
          await limited.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': busy } });
        }
        expectProblem(
          await limited.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': busy } }),
          429,
          'RateLimited',
        );
        const other = await limited.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': testNetAddress() } });
        expectProblem(other, 401, 'InvalidCredentials');
      });
    });

    describe('with the address range allowlisted', () => {
      let open: TestApp;
      beforeAll(async () => (open = await startApp({ ...LIMITED_ENV, RATE_LIMIT_ALLOWLIST: '203.0.113.0/24' })));
      afterAll(() => open.close());

      it('an allowlisted address is never limited', async () => {
        const { email } = await registerAndLogin(t.http);
        const ip = testNetAddress();
        for (let i = 0; i < 6; i++) {
          const res = await open.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': ip } });
          expectProblem(res, 401, 'InvalidCredentials');
        }
      });

      it('an address outside the allowlist is still limited', async () => {
        const { email } = await registerAndLogin(t.http);
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) {
          const res = await open.http.post('/v1/auth/login', { login: email, password: WRONG }, { headers: { 'x-forwarded-for': '198.51.100.7' } });
          statuses.push(res.status);
        }
        expect(statuses).toEqual([401, 401, 401, 429]);
      });
    });
  });
});
