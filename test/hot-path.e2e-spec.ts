import { Client } from 'pg';
import { LISTENER_APPLICATION_NAME } from '../src/database/change-listener';
import { startApp, TestApp } from './support/app';
import { registerAndLogin } from './support/users';

/**
 * Issue 13: the hot path's database round trips. A token check with a known token costs none (the
 * instance's cache, kept coherent by PostgreSQL notifications: test/auth-cache.e2e-spec.ts); a
 * miss costs one prepared statement; refresh's common case is one statement.
 */
describe('hot path database round trips', () => {
  let t: TestApp;
  // The spy counts every query of the process: no outbox dispatcher polling in the background.
  beforeAll(async () => (t = await startApp({ OUTBOX_DISPATCH: 'false' })));
  afterAll(() => t.close());

  interface Seen {
    text: string;
    name?: string;
  }

  /** Statements sent through the pool while `action` runs (the change listener's own connection is not counted). */
  async function countQueries(action: () => Promise<unknown>): Promise<Seen[]> {
    const seen: Seen[] = [];
    const original = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const listener =
        (this as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name === LISTENER_APPLICATION_NAME;
      if (!listener) {
        const config = args[0] as string | { text?: string; name?: string };
        seen.push(typeof config === 'string' ? { text: config } : { text: String(config?.text), name: config?.name });
      }
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    try {
      await action();
    } finally {
      spy.mockRestore();
    }
    return seen;
  }

  it('GET /v1/me: one prepared statement on a cache miss, then none', async () => {
    const user = await registerAndLogin(t.http);
    let status = 0;
    const miss = await countQueries(async () => {
      status = (await t.http.get('/v1/me', { token: user.accessToken })).status;
    });
    expect(status).toBe(200);
    expect(miss).toHaveLength(1);
    expect(miss[0]).toMatchObject({ name: 'auth_live_session_user', text: expect.stringMatching(/FROM "sessions" WHERE "id" = \$1 .* JOIN "users" u/) });

    for (const path of ['/v1/me', '/users/user/', '/api/profile_settings', `/${user.id}`]) {
      const hit = await countQueries(async () => {
        status = (await t.http.get(path, { token: user.accessToken })).status;
      });
      expect({ path, status, queries: hit }).toEqual({ path, status: 200, queries: [] });
    }
  });

  it('a revoked token is refused after the invalidation, with one prepared statement', async () => {
    const user = await registerAndLogin(t.http);
    expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200); // now cached
    expect((await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
    let status = 0;
    const queries = await countQueries(async () => {
      status = (await t.http.get('/v1/me', { token: user.accessToken })).status;
    });
    expect(status).toBe(401);
    expect(queries.map((query) => query.name)).toEqual(['auth_live_session_user']);
  });

  it('refresh with the current token is one statement (rotation and the new token hash together)', async () => {
    const user = await registerAndLogin(t.http);
    let status = 0;
    const queries = await countQueries(async () => {
      status = (await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).status;
    });
    expect(status).toBe(200);
    expect(queries.map((query) => query.name)).toEqual(['auth_rotate_refresh_token']);
  });

  it('a password sign-in is five named statements, and only the last one writes (the session, its refresh token and its event together)', async () => {
    const user = await registerAndLogin(t.http);
    let status = 0;
    const queries = await countQueries(async () => {
      status = (await t.http.post('/v1/auth/login', { login: user.email, password: user.password })).status;
    });
    expect(status).toBe(200);
    expect(queries.map((query) => query.name)).toEqual([
      'users_by_email',
      'credentials_password_of',
      'factors_summary',
      'credentials_record_sign_in_success',
      expect.stringMatching(/^auth_create_session_\d+$/),
    ]);
    expect(queries[4].text).toMatch(/INSERT INTO "sessions" .* INSERT INTO "refresh_tokens" .* INSERT INTO "security_events"/);
    // The lockout reset matched no row: nothing to reset, and the password's last use is recent.
    const [credential] = await t.db.query(`SELECT failed_count, locked_until, last_used_at FROM credentials WHERE user_id = $1 AND type = 'password'`, [
      user.id,
    ]);
    expect(credential).toMatchObject({ failed_count: 0, locked_until: null, last_used_at: expect.any(Date) });
    const [event] = await t.db.query(`SELECT type, session_id, surface FROM security_events WHERE user_id = $1 ORDER BY id DESC LIMIT 1`, [user.id]);
    expect(event).toMatchObject({ type: 'sign_in.succeeded', surface: 'v1', session_id: expect.any(String) });
  });

  it('a sign-in after failures resets them (the reset statement writes only then)', async () => {
    const user = await registerAndLogin(t.http);
    for (let i = 0; i < 3; i++) expect((await t.http.post('/v1/auth/login', { login: user.email, password: 'not the password' })).status).toBe(401);
    expect((await t.http.post('/v1/auth/login', { login: user.email, password: user.password })).status).toBe(200);
    const [credential] = await t.db.query(`SELECT failed_count, locked_until FROM credentials WHERE user_id = $1 AND type = 'password'`, [user.id]);
    expect(credential).toEqual({ failed_count: 0, locked_until: null });
  });
});
