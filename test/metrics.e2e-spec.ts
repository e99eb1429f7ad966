import { GOOD_PASSWORD, startApp, TestApp } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { setLock } from './support/lockout';
import { quickUser, registerAndLogin } from './support/users';

/** The value of one sample of the Prometheus text (labels matched exactly), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }
  return undefined;
}

const TOKEN = 'metrics-token-0123456789abcdef';

// `/metrics` is an operator's endpoint (Prometheus text), not part of the API document: requests to it say so.
describe('GET /metrics', () => {
  describe('with METRICS_TOKEN', () => {
    let t: DeliveryTestApp;
    beforeAll(async () => {
      t = await startAppWithDelivery({ METRICS_TOKEN: TOKEN, OUTBOX_RETRY_BASE_MS: '50', OUTBOX_POLL_INTERVAL_MS: '100', OUTBOX_MAX_ATTEMPTS: '2' });
    });
    afterAll(() => t.close());
    const scrape = async () => {
      const res = await t.http.get('/metrics', { notAnOperation: true, token: TOKEN });
      expect(res.status).toBe(200);
      return res.text;
    };

    it('refuses a missing or wrong bearer token with 401, also from loopback', async () => {
      for (const token of [undefined, 'wrong-token-0123456789', `${TOKEN}x`]) {
        const res = await t.http.get('/metrics', { notAnOperation: true, token });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(res.text).not.toContain('http_request_duration_seconds');
      }
      expect((await t.http.get('/metrics', { notAnOperation: true, token: TOKEN, scheme: 'Token' })).status).toBe(401);
    });

    it('serves Prometheus text: requests by route template, method, status and surface (never a raw URL)', async () => {
      const user = await quickUser(t.app);
      for (let i = 0; i < 3; i++) expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
      await t.http.get(`/${user.id}`, { token: user.accessToken });
      await t.http.get('/users/user/', { token: user.accessToken });
      await t.http.get(`/v1/me/sessions/${user.sessionId}/nothing`, { notAnOperation: true }); // an unknown path, on purpose

      const res = await t.http.get('/metrics', { notAnOperation: true, token: TOKEN });
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = res.text;
      expect(sample(text, 'http_request_duration_seconds_count', { route: '/v1/me', method: 'GET', status: '200', surface: 'v1' })).toBeGreaterThanOrEqual(3);
      expect(
        sample(text, 'http_request_duration_seconds_bucket', { route: '/v1/me', method: 'GET', status: '200', surface: 'v1', le: '+Inf' }),
      ).toBeGreaterThanOrEqual(3);
      expect(sample(text, 'http_request_duration_seconds_count', { route: '/:userId', method: 'GET', status: '200', surface: '001' })).toBe(1);
      expect(sample(text, 'http_request_duration_seconds_count', { route: '/users/user', method: 'GET', status: '200', surface: '002' })).toBe(1);
      expect(sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', method: 'GET', status: '404', surface: 'v1' })).toBe(1);
      // Ids and tokens never become labels.
      expect(text).not.toContain(user.id);
      expect(text).not.toContain(user.sessionId);
    });

    it('counts sign-ins by surface and result, lockouts and refresh reuse', async () => {
      const before = await scrape();
      const user = await registerAndLogin(t.http);
      await t.http.post('/auth/login', { email_or_name: user.email, password: 'wrong password 1' });
      await setLock(t.db, user.id, 9, null);
      await t.http.post('/api/login', { username: user.email, pwd: 'wrong password 2' });
      await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      await t.db.query(`UPDATE sessions SET rotated_at = now() - interval '1 minute' WHERE id = $1`, [user.sessionId]);
      await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      const after = await scrape();

      const delta = (name: string, labels: Record<string, string>) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
      expect(delta('identity_sign_ins_total', { surface: 'v1', result: 'success' })).toBe(1);
      expect(delta('identity_sign_ins_total', { surface: '001', result: 'wrong_password' })).toBe(1);
      expect(delta('identity_sign_ins_total', { surface: '003', result: 'wrong_password' })).toBe(1);
      expect(delta('identity_lockouts_total', { surface: '003' })).toBe(1);
      expect(delta('identity_refresh_reuse_detected_total', { surface: 'v1' })).toBe(1);
    });

    it('outbox backlog, deliveries and failures by channel', async () => {
      const before = await scrape();
      const user = await registerAndLogin(t.http);
      await t.mail.waitFor((m) => m.to === user.email.toLowerCase());
      t.sms.failNext(2);
      await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken });
      // Two failed attempts (OUTBOX_MAX_ATTEMPTS=2): the message is given up.
      for (let i = 0; i < 100 && t.sms.failedAttempts < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      let after = '';
      for (let i = 0; i < 100; i++) {
        after = await scrape();
        if (
          (sample(after, 'identity_outbox_delivery_failures_total', { channel: 'sms', final: 'true' }) ?? 0) >
          (sample(before, 'identity_outbox_delivery_failures_total', { channel: 'sms', final: 'true' }) ?? 0)
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const delta = (name: string, labels: Record<string, string>) => (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);
      expect(delta('identity_outbox_deliveries_total', { channel: 'email' })).toBeGreaterThanOrEqual(1);
      expect(delta('identity_outbox_delivery_failures_total', { channel: 'sms', final: 'false' })).toBe(1);
      expect(delta('identity_outbox_delivery_failures_total', { channel: 'sms', final: 'true' })).toBe(1);

      // A message waiting (far in the future, so nobody delivers it meanwhile) is in the backlog.
      await t.db.query(
        `INSERT INTO outbox_messages (channel, recipient, template, text_body, next_attempt_at) VALUES ('email', 'backlog@example.com', 'password-changed', 'x', now() + interval '1 hour')`,
      );
      const withBacklog = await scrape();
      expect(sample(withBacklog, 'identity_outbox_backlog', { channel: 'email' })).toBeGreaterThanOrEqual(1);
      expect(sample(withBacklog, 'identity_outbox_backlog', { channel: 'sms' })).toBeGreaterThanOrEqual(0);
      expect(sample(withBacklog, 'identity_database_up')).toBe(1);
      await t.db.query(`DELETE FROM outbox_messages WHERE recipient = 'backlog@example.com'`);
    });

    it('the database pool, event-loop lag and process metrics', async () => {
      const text = await scrape();
      expect(sample(text, 'identity_db_pool_connections_max')).toBe(20);
      for (const name of ['identity_db_pool_connections_in_use', 'identity_db_pool_connections_idle', 'identity_db_pool_waiting']) {
        expect(sample(text, name)).toBeGreaterThanOrEqual(0);
      }
      for (const name of [
        'nodejs_eventloop_lag_seconds',
        'nodejs_eventloop_lag_p99_seconds',
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'process_start_time_seconds',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect(sample(text, name)).toBeGreaterThanOrEqual(0);
      }
    });
  });

  describe('without METRICS_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      // No allowlist: the per-IP budgets apply to loopback here, and must not touch /metrics and /health.
      t = await startApp({ RATE_LIMIT_ALLOWLIST: '', AUTH_RATE_LIMIT_PER_MINUTE: '2' });
    });
    afterAll(() => t.close());

    it('answers loopback clients, but not through a proxy (X-Forwarded-For, Forwarded)', async () => {
      expect((await t.http.get('/metrics', { notAnOperation: true })).status).toBe(200);
      expect((await t.http.get('/metrics', { notAnOperation: true, headers: { 'x-forwarded-for': '127.0.0.1' } })).status).toBe(401);
      expect((await t.http.get('/metrics', { notAnOperation: true, headers: { forwarded: 'for=127.0.0.1' } })).status).toBe(401);
    });

    it('/metrics and /health/* are not rate-limited', async () => {
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => t.http.get(['/metrics', '/health/live', '/health/ready'][i % 3], i % 3 === 0 ? { notAnOperation: true } : {})),
      );
      expect(answers.map((answer) => answer.status).filter((status) => status !== 200)).toEqual([]);
      // The budget is there for the routes it covers.
      const logins = await Promise.all(
        Array.from({ length: 3 }, () => t.http.post('/v1/auth/login', { login: 'nobody@example.com', password: GOOD_PASSWORD })),
      );
      expect(logins.map((login) => login.status)).toContain(429);
    });

    it('/metrics and /health/* are not logged at info (other requests are)', async () => {
      await t.http.get('/metrics', { notAnOperation: true });
      await t.http.get('/health/live');
      await t.http.get('/health/ready/');
      await t.http.get('/.well-known/jwks.json');
      const requestLines = t.logs.filter((line) => (line.req as { path?: string } | undefined)?.path);
      const paths = requestLines.map((line) => (line.req as { path: string }).path);
      expect(paths).toContain('/.well-known/jwks.json');
      expect(paths.filter((path) => /^\/(metrics|health)/.test(path))).toEqual([]);
    });
  });

  describe('at LOG_LEVEL=debug', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startApp({ LOG_LEVEL: 'debug' });
    });
    afterAll(() => t.close());

    it('scrapes and probes are logged at debug', async () => {
      await t.http.get('/metrics', { notAnOperation: true });
      await t.http.get('/health/live');
      const lines = t.logs.filter((line) => /^\/(metrics|health\/live)$/.test((line.req as { path?: string } | undefined)?.path ?? ''));
      expect(lines.map((line) => line.level)).toEqual([20, 20]);
    });
  });
});
