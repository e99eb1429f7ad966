import { Client } from 'pg';
import { AuthCache } from '../src/auth/auth-cache';
import { ChangeListener } from '../src/database/change-listener';
import { startApp, TestApp, testDatabaseUrl } from './support/app';
import { createAppPassword, enrolTotp, stepUpWithTotp } from './support/mfa';
import { registerAndLogin, SignedInUser } from './support/users';

/**
 * Issue 13: each instance caches sessions and users, and the cache hears of every committed change
 * through PostgreSQL notifications sent by triggers. These tests change rows the way an operator
 * would (plain SQL on a connection of their own, which does NOT wait for the instances, unlike
 * TestApp.db) and watch both instances refuse or update within a deadline. Each fails when its
 * invalidation path is broken (see bench/RESULTS.md, "Mutation checks").
 */
describe('caches invalidated through PostgreSQL notifications (two instances)', () => {
  let a: TestApp;
  let b: TestApp;
  let operator: Client;

  beforeAll(async () => {
    [a, b] = await Promise.all([startApp({ OUTBOX_DISPATCH: 'false' }), startApp({ OUTBOX_DISPATCH: 'false' })]);
    operator = new Client({ connectionString: await testDatabaseUrl() });
    await operator.connect();
  });
  afterAll(async () => {
    await operator.end();
    await Promise.all([a.close(), b.close()]);
  });

  const cacheOf = (t: TestApp) => t.app.get(AuthCache);
  const listenerOf = (t: TestApp) => t.app.get(ChangeListener);

  /** Signs a user in and makes sure both instances have the session cached (a second read is a hit). */
  async function cachedEverywhere(): Promise<SignedInUser> {
    const user = await registerAndLogin(a.http);
    for (const t of [a, b]) {
      expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
      const hits = cacheOf(t).stats().hits;
      expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
      expect(cacheOf(t).stats().hits).toBe(hits + 1);
    }
    return user;
  }

  /** Milliseconds until `t` answers GET `path` as `expected` wants; fails after `withinMs`. */
  async function until(t: TestApp, token: string, expected: (status: number, body: any) => boolean, withinMs = 2000, path = '/v1/me'): Promise<number> {
    const started = performance.now();
    for (;;) {
      const res = await t.http.get(path, { token });
      const elapsed = performance.now() - started;
      if (expected(res.status, res.body)) return elapsed;
      if (elapsed > withinMs) throw new Error(`still ${res.status} ${res.text} after ${Math.round(elapsed)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  const status = (code: number) => (actual: number) => actual === code;

  describe('a logout on one instance', () => {
    it('is refused on the other within 100 ms', async () => {
      const user = await cachedEverywhere();
      const loggedOut = await a.http.post('/v1/auth/logout', undefined, { token: user.accessToken });
      expect(loggedOut.status).toBe(204);
      const elapsed = await until(b, user.accessToken, status(401), 100);
      console.log(`logout on A refused on B after ${elapsed.toFixed(1)} ms`);
      expect(elapsed).toBeLessThan(100);
    });

    it('is refused on the same instance by the very next request, even when notifications are slow (read-your-writes)', async () => {
      const user = await cachedEverywhere();
      // Keep A's listening connection busy for 300 ms: notifications wait until it is idle again.
      const busy = (listenerOf(a) as unknown as { client: Client }).client.query('SELECT pg_sleep(0.3)');
      try {
        expect((await a.http.post('/v1/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
        expect((await a.http.get('/v1/me', { token: user.accessToken })).status).toBe(401);
      } finally {
        await busy;
      }
    });
    it('a refresh refused for token reuse (which revokes the session) is seen by the very next request on the same instance', async () => {
      const user = await cachedEverywhere();
      expect((await a.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
      // Past the grace window, without waiting for it (rotated_at is bookkeeping: no notification).
      await operator.query(`UPDATE sessions SET rotated_at = rotated_at - interval '1 minute' WHERE id = $1`, [user.sessionId]);
      const busy = (listenerOf(a) as unknown as { client: Client }).client.query('SELECT pg_sleep(0.3)');
      try {
        expect((await a.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
        expect((await a.http.get('/v1/me', { token: user.accessToken })).status).toBe(401);
      } finally {
        await busy;
      }
    });
  });

  describe('what a route marked @ReadOnlyWhenSuccessful writes', () => {
    it('a successful sign-in on every surface announces nothing to the caches (so its answer need not wait for them)', async () => {
      const user = await registerAndLogin(a.http);
      const listening = new Client({ connectionString: await testDatabaseUrl() });
      await listening.connect();
      const heard: string[] = [];
      listening.on('notification', (message) => heard.push(message.payload ?? ''));
      await listening.query(`LISTEN identity_cache`);
      try {
        // Failures first, so that the success has a lockout count to reset.
        expect((await a.http.post('/v1/auth/login', { login: user.email, password: 'not the password' })).status).toBe(401);
        for (const [path, body] of [
          ['/v1/auth/login', { login: user.email, password: user.password }],
          ['/auth/login', { email_or_name: user.email, password: user.password, remember_me: false }],
          ['/users/auth/token/', { email: user.email, password: user.password }],
          ['/api/login', { username: user.email, pwd: user.password, remember: false }],
        ] as const) {
          expect({ path, status: (await a.http.post(path, body)).status }).toEqual({ path, status: 200 });
        }
        // A change that does notify, as a marker: once it is heard, anything the sign-ins sent would have been too.
        await operator.query(`UPDATE users SET name = 'after the sign-ins' WHERE id = $1`, [user.id]);
        for (let waited = 0; !heard.includes(`user:${user.id}`) && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
        expect(heard).toEqual([`user:${user.id}`]);
      } finally {
        await listening.end();
      }
    });
  });

  describe('second factors across instances', () => {
    it('revoking an app password on one instance ends the legacy session it opened on the other within 100 ms', async () => {
      const user = await registerAndLogin(a.http);
      const { secret } = await enrolTotp(a.http, user.accessToken);
      const app = await createAppPassword(a.http, await stepUpWithTotp(a.http, user.accessToken, secret));
      const signedIn = await b.http.post('/users/auth/token/', { email: user.email, password: app.password });
      expect(signedIn.status).toBe(200);
      const legacy = signedIn.body.access as string;
      await until(b, legacy, status(200), 2000, '/users/user/');
      const hits = cacheOf(b).stats().hits;
      expect((await b.http.get('/users/user/', { token: legacy })).status).toBe(200);
      expect(cacheOf(b).stats().hits).toBe(hits + 1);

      expect((await a.http.delete(`/v1/me/app-passwords/${app.id}`, undefined, { token: user.accessToken })).status).toBe(204);
      expect(await until(b, legacy, status(401), 100, '/users/user/')).toBeLessThan(100);
      // The session that created it is not one the app password opened: it stays.
      expect((await b.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
    });

    it("a step-up on one instance is honoured by the other (the assurance level is the token's, not the cache's)", async () => {
      const user = await cachedEverywhere();
      const { secret } = await enrolTotp(a.http, user.accessToken);
      const aal2 = await stepUpWithTotp(a.http, user.accessToken, secret);
      // Creating an app password needs aal2: B accepts the stepped-up token, and refuses the session's aal1 one.
      expect((await b.http.post('/v1/me/app-passwords', { name: 'from B' }, { token: aal2 })).status).toBe(201);
      expect((await b.http.post('/v1/me/app-passwords', { name: 'from B' }, { token: user.accessToken })).status).toBe(403);
    });
  });

  describe("an operator's SQL reaches every instance (a trigger on each table)", () => {
    it('sessions, UPDATE: a session revoked by hand is refused', async () => {
      const user = await cachedEverywhere();
      await operator.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'operator' WHERE id = $1`, [user.sessionId]);
      for (const t of [a, b]) await until(t, user.accessToken, status(401));
    });

    it('sessions, DELETE: a deleted session is refused', async () => {
      const user = await cachedEverywhere();
      await operator.query(`DELETE FROM sessions WHERE id = $1`, [user.sessionId]);
      for (const t of [a, b]) await until(t, user.accessToken, status(401));
    });

    it('users, UPDATE: a blocked user is refused (403), a changed profile is served new', async () => {
      const blocked = await cachedEverywhere();
      const renamed = await cachedEverywhere();
      await operator.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [blocked.id]);
      await operator.query(`UPDATE users SET name = 'Renamed by SQL' WHERE id = $1`, [renamed.id]);
      for (const t of [a, b]) {
        await until(t, blocked.accessToken, status(403));
        await until(t, renamed.accessToken, (code, body) => code === 200 && body.name === 'Renamed by SQL');
      }
    });

    it('users, UPDATE: a role granted by SQL opens the admin API, and taking it back closes it', async () => {
      const user = await cachedEverywhere();
      await operator.query(`UPDATE users SET role = 'administrator' WHERE id = $1`, [user.id]);
      for (const t of [a, b]) await until(t, user.accessToken, status(200), 2000, '/v1/admin/users');
      await operator.query(`UPDATE users SET role = 'user' WHERE id = $1`, [user.id]);
      for (const t of [a, b]) await until(t, user.accessToken, status(403), 2000, '/v1/admin/users');
    });

    it('users, DELETE: a deleted user is refused', async () => {
      const user = await cachedEverywhere();
      await operator.query(`DELETE FROM users WHERE id = $1`, [user.id]);
      for (const t of [a, b]) await until(t, user.accessToken, status(401));
    });

    it('credentials, INSERT / UPDATE / DELETE: each drops the user (and so their sessions) from the cache', async () => {
      const user = await cachedEverywhere();
      const statements = [
        `INSERT INTO credentials (user_id, type, subject) VALUES ($1, 'oidc:test', 'subject-' || md5(random()::text))`,
        `UPDATE credentials SET name = 'renamed' WHERE user_id = $1 AND type = 'oidc:test'`,
        `DELETE FROM credentials WHERE user_id = $1 AND type = 'oidc:test'`,
      ];
      for (const sql of statements) {
        await operator.query(sql, [user.id]);
        for (const t of [a, b]) {
          // Dropped: the next check is a miss (a database read), the one after a hit again.
          const misses = cacheOf(t).stats().misses;
          await until(t, user.accessToken, () => cacheOf(t).stats().misses > misses);
          const hits = cacheOf(t).stats().hits;
          expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
          expect(cacheOf(t).stats().hits).toBe(hits + 1);
        }
      }
    });

    it('a rolled-back change invalidates nothing', async () => {
      const user = await cachedEverywhere();
      await operator.query('BEGIN');
      await operator.query(`UPDATE sessions SET revoked_at = now() WHERE id = $1`, [user.sessionId]);
      await operator.query('ROLLBACK');
      await Promise.all([a.settle(), b.settle()]);
      for (const t of [a, b]) {
        const hits = cacheOf(t).stats().hits;
        expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
        expect(cacheOf(t).stats().hits).toBe(hits + 1);
      }
    });

    it('a statement changing more than 1000 rows empties every cache at once (one "flush", not 1000 notifications)', async () => {
      const user = await cachedEverywhere();
      await operator.query(`INSERT INTO users (username) SELECT 'bulk_' || md5(random()::text) FROM generate_series(1, 1001)`);
      await operator.query(`UPDATE users SET updated_at = updated_at WHERE username LIKE 'bulk\\_%'`);
      await Promise.all([a.settle(), b.settle()]);
      for (const t of [a, b]) expect(cacheOf(t).stats()).toMatchObject({ sessions: 0, users: 0 });
      expect((await a.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
    });

    it('TRUNCATE empties every cache', async () => {
      const user = await cachedEverywhere();
      // CASCADE reaches the sessions an app password opened (and their refresh tokens and challenges): all kept and put back.
      const tables = ['credentials', 'sessions', 'refresh_tokens', 'mfa_challenges'];
      for (const table of tables) await operator.query(`CREATE TEMP TABLE kept_${table} AS SELECT * FROM ${table}`);
      await operator.query(`TRUNCATE credentials CASCADE`);
      for (const table of tables) await operator.query(`INSERT INTO ${table} SELECT * FROM kept_${table}`);
      await Promise.all([a.settle(), b.settle()]);
      // The INSERTs put the rows back (and notified their users); the TRUNCATE emptied everything.
      for (const t of [a, b]) expect(cacheOf(t).stats()).toMatchObject({ sessions: 0, users: 0 });
      expect((await b.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
    });
  });

  describe('when an instance loses its notification connection', () => {
    afterEach(async () => {
      listenerOf(a).retryDelayMs = ChangeListener.RETRY_MIN_MS;
      await listenerOf(a).reconnectNow();
    });

    it('drops its caches and reads the database per request until it has re-subscribed (pg_terminate_backend)', async () => {
      const revoked = await cachedEverywhere();
      const kept = await cachedEverywhere();
      const listener = listenerOf(a);
      listener.retryDelayMs = 60_000; // hold the gap open
      const pid = listener.backendPid;
      expect(pid).toEqual(expect.any(Number));
      await operator.query('SELECT pg_terminate_backend($1)', [pid]);
      const deadline = Date.now() + 2000;
      while (listener.isLive && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(listener.isLive).toBe(false);
      expect(cacheOf(a).stats()).toMatchObject({ live: false, sessions: 0, users: 0 });

      // A change nobody on A hears of: A must read the database to refuse it.
      await operator.query(`UPDATE sessions SET revoked_at = now() WHERE id = $1`, [revoked.sessionId]);
      expect((await a.http.get('/v1/me', { token: revoked.accessToken })).status).toBe(401);
      const misses = cacheOf(a).stats().misses;
      expect((await a.http.get('/v1/me', { token: kept.accessToken })).status).toBe(200);
      expect((await a.http.get('/v1/me', { token: kept.accessToken })).status).toBe(200);
      expect(cacheOf(a).stats()).toMatchObject({ misses: misses + 2, sessions: 0 }); // nothing cached during the gap

      await listener.reconnectNow();
      expect(listener.isLive).toBe(true);
      // Re-subscribed: nothing from before the gap comes back, and caching resumes.
      expect((await a.http.get('/v1/me', { token: revoked.accessToken })).status).toBe(401);
      expect((await a.http.get('/v1/me', { token: kept.accessToken })).status).toBe(200);
      const hits = cacheOf(a).stats().hits;
      expect((await a.http.get('/v1/me', { token: kept.accessToken })).status).toBe(200);
      expect(cacheOf(a).stats().hits).toBe(hits + 1);
    });

    it('re-subscribes by itself, and then hears of changes again', async () => {
      const user = await cachedEverywhere();
      const listener = listenerOf(a);
      const before = listener.backendPid;
      await operator.query('SELECT pg_terminate_backend($1)', [before]);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !(listener.isLive && listener.backendPid !== before)) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(listener.isLive).toBe(true);
      expect(listener.backendPid).not.toBe(before);
      expect((await a.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
      await operator.query(`UPDATE sessions SET revoked_at = now() WHERE id = $1`, [user.sessionId]);
      await until(a, user.accessToken, status(401));
    });
  });
});
