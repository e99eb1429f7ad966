import { SessionsService } from '../src/auth/sessions.service';
import { User } from '../src/users/user.entity';
import { GOOD_PASSWORD } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { HttpResponse } from './support/http';
import { registerAndLogin, SignedInUser } from './support/users';

/**
 * Far more concurrent requests than pool connections (DATABASE_POOL_SIZE=5): every request must
 * complete without a 5xx, and the instance must still be ready afterwards. A transaction that asks
 * the global pool for a second connection deadlocks the pool under this load, so this guards
 * "nothing inside a transaction touches the global pool" on each write path.
 */
const POOL_SIZE = 5;
/** Far above what any of these requests needs; a deadlocked pool never answers. */
const ANSWER_WITHIN_MS = 30_000;

describe('a database pool smaller than the concurrency', () => {
  let t: DeliveryTestApp;
  let users: SignedInUser[];

  beforeAll(async () => {
    t = await startAppWithDelivery({ DATABASE_POOL_SIZE: String(POOL_SIZE), EMAIL_RESEND_COOLDOWN: '0' });
    users = [];
    for (let batch = 0; batch < 5; batch++) {
      users.push(...(await Promise.all(Array.from({ length: 10 }, () => registerAndLogin(t.http)))));
    }
  }, 120_000);
  afterAll(() => t.close());

  /** Sessions made by the domain service directly: the refresh is under test, not 200 argon2 sign-ins. */
  async function freshSessions(count: number): Promise<string[]> {
    const sessions = t.app.get(SessionsService);
    const user = (await t.db.getRepository(User).findOneByOrFail({ id: users[0].id })) as User;
    const started = [];
    for (let i = 0; i < count; i++) started.push((await sessions.start(user)).refreshToken);
    return started;
  }

  function expectAllOk(answers: HttpResponse[], status = 200): void {
    expect(answers.filter((answer) => answer.status !== status).map((answer) => `${answer.status} ${answer.text}`)).toEqual([]);
  }

  async function expectStillReady(): Promise<void> {
    const ready = await t.http.get('/health/ready', { timeoutMs: ANSWER_WITHIN_MS });
    expect(ready.status).toBe(200);
  }

  it.each([50, 200])('%i concurrent /v1 refreshes with distinct sessions all complete', async (count) => {
    const tokens = await freshSessions(count);
    const answers = await Promise.all(tokens.map((refreshToken) => t.http.post('/v1/auth/refresh', { refreshToken }, { timeoutMs: ANSWER_WITHIN_MS })));
    expectAllOk(answers);
    expect(new Set(answers.map((answer) => answer.body.refreshToken)).size).toBe(count);
    await expectStillReady();
  });

  it('50 concurrent 002 refreshes with distinct sessions all complete', async () => {
    const tokens = await freshSessions(50);
    const answers = await Promise.all(tokens.map((refresh) => t.http.post('/users/auth/token/refresh/', { refresh }, { timeoutMs: ANSWER_WITHIN_MS })));
    expectAllOk(answers);
    await expectStillReady();
  });

  it('50 concurrent sign-ins all complete', async () => {
    const answers = await Promise.all(
      users.map((user) => t.http.post('/v1/auth/login', { login: user.email, password: GOOD_PASSWORD }, { timeoutMs: ANSWER_WITHIN_MS })),
    );
    expectAllOk(answers);
    await expectStillReady();
  });

  it('50 concurrent e-mail verifications (request and confirm) all complete', async () => {
    const earlier = new Set(t.mail.messages); // the registration mails carry codes that these requests void
    const requested = await Promise.all(
      users.map((user) => t.http.post('/v1/me/email/verification', undefined, { token: user.accessToken, timeoutMs: ANSWER_WITHIN_MS })),
    );
    expectAllOk(requested, 202);
    const codes = await Promise.all(
      users.map(async (user) => {
        const mail = await t.mail.waitFor((m) => !earlier.has(m) && m.to === user.email.toLowerCase() && /\b\d{6}\b/.test(m.text), ANSWER_WITHIN_MS);
        return mail.text.match(/\b(\d{6})\b/)![1];
      }),
    );
    const confirmed = await Promise.all(
      users.map((user, i) => t.http.post('/v1/me/email/verification/confirm', { code: codes[i] }, { token: user.accessToken, timeoutMs: ANSWER_WITHIN_MS })),
    );
    expectAllOk(confirmed);
    await expectStillReady();
  });

  it("50 concurrent password changes all complete (run last: they end the users' other sessions)", async () => {
    const answers = await Promise.all(
      users.map((user) =>
        t.http.put(
          '/v1/me/password',
          { currentPassword: GOOD_PASSWORD, newPassword: `${GOOD_PASSWORD} changed` },
          { token: user.accessToken, timeoutMs: ANSWER_WITHIN_MS },
        ),
      ),
    );
    expectAllOk(answers, 204);
    await expectStillReady();
  });
});

/**
 * When no connection can be had in DATABASE_POOL_TIMEOUT_MS, a request is answered 503 in its
 * surface's own envelope (never left hanging, never a 500), and the instance recovers by itself.
 */
describe('a saturated pool fails fast with 503', () => {
  let t: DeliveryTestApp;
  let user: SignedInUser;

  beforeAll(async () => {
    t = await startAppWithDelivery({ DATABASE_POOL_SIZE: '2', DATABASE_POOL_TIMEOUT_MS: '300', LOG_LEVEL: 'warn' });
    user = await registerAndLogin(t.http);
  });
  afterAll(() => t.close());

  /** Holds every pool connection for `ms` (what a burst of slow transactions does). */
  function holdEveryConnection(ms: number): Promise<unknown> {
    return Promise.all([t.db.query('SELECT pg_sleep($1)', [ms / 1000]), t.db.query('SELECT pg_sleep($1)', [ms / 1000])]);
  }

  it('answers 503 on every surface while every connection is held, then serves again', async () => {
    const held = holdEveryConnection(3000);
    await new Promise((resolve) => setTimeout(resolve, 100)); // both queries have their connections
    const options = { token: user.accessToken, timeoutMs: 2500 };
    const [v1, rpc000, service001, users002, account003, password004, ...withoutDatabase] = await Promise.all([
      t.http.get('/v1/me', options),
      t.http.post('/api/users/profile', {}, options),
      t.http.get(`/${user.id}`, options),
      t.http.get('/users/user/', options),
      t.http.get('/api/profile_settings', options),
      t.http.patch('/me/password', { password: GOOD_PASSWORD, newPassword: `${GOOD_PASSWORD}!` }, options),
      // The routes the document says cannot answer 503 (@WithoutDatabase) are served all the same.
      t.http.get('/', options),
      t.http.get('/api', options),
      t.http.get('/.well-known/jwks.json', options),
    ]);
    expect(withoutDatabase.map((answer) => answer.status)).toEqual([200, 200, 200]);

    expect(v1.status).toBe(503);
    expect(v1.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(v1.body).toMatchObject({ status: 503, code: 'ServiceUnavailable' });
    expect(rpc000).toMatchObject({ status: 503, body: { statusCode: 503, error: 'Service Unavailable' } });
    expect(service001).toMatchObject({ status: 503, body: { status: 'error', message: expect.any(String) } });
    expect(users002).toMatchObject({ status: 503, body: { detail: 'Service temporarily unavailable, try again later.' } });
    expect(account003).toMatchObject({ status: 503, body: { status: 'ERR', msg: expect.any(String) } });
    expect(password004).toMatchObject({ status: 503, body: { code: 21001 } });
    for (const answer of [v1, rpc000, service001, users002, account003, password004]) {
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // One warning for the burst, not one per refused request, and no "unhandled error" 500 lines.
    const unavailable = t.logs.filter((line) => line.msg === 'database unavailable: answering 503');
    expect(unavailable).toHaveLength(1);
    expect(t.logs.filter((line) => line.msg === 'unhandled error')).toEqual([]);

    await held;
    expect((await t.http.get('/health/ready')).status).toBe(200);
    expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
  });
});
