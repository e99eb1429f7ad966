import { randomUUID } from 'node:crypto';
import { GOOD_PASSWORD, startApp, TestApp, unique, uniquePhone } from './support/app';
import { jwtPayload, registerAndLogin } from './support/users';
import { ISO_DATE, expectProblem } from './support/expect';

interface Session {
  userAgent: string;
  accessToken: string;
  refreshToken: string;
  sid: string;
}

describe('/v1/me/sessions', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  /** Registers a fresh user and signs in `count` times, each with its own User-Agent. */
  async function userWithSessions(count: number): Promise<{ email: string; sessions: Session[] }> {
    const email = `${unique('mail')}@example.com`;
    const registered = await t.http.post('/v1/auth/register', { email, username: unique('user'), phone: uniquePhone(), password: GOOD_PASSWORD });
    expect(registered.status).toBe(201);
    const sessions: Session[] = [];
    for (let i = 0; i < count; i++) {
      const userAgent = `SessionsTest/${i + 1} (${unique('ua')})`;
      const login = await t.http.post('/v1/auth/login', { login: email, password: GOOD_PASSWORD }, { headers: { 'user-agent': userAgent } });
      expect(login.status).toBe(200);
      sessions.push({ userAgent, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken, sid: jwtPayload(login.body.accessToken).sid });
    }
    return { email, sessions };
  }

  describe('GET /v1/me/sessions', () => {
    it("lists one item per sign-in, each id being the sid of that sign-in's access token", async () => {
      const { sessions } = await userWithSessions(3);
      const res = await t.http.get('/v1/me/sessions', { token: sessions[0].accessToken });

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toHaveLength(3);
      expect(res.body.map((s: { id: string }) => s.id).sort()).toEqual(sessions.map((s) => s.sid).sort());
    });

    it('marks exactly the calling session as current', async () => {
      const { sessions } = await userWithSessions(3);
      const res = await t.http.get('/v1/me/sessions', { token: sessions[1].accessToken });

      expect(res.status).toBe(200);
      const current = res.body.filter((s: { current: boolean }) => s.current === true);
      expect(current).toHaveLength(1);
      expect(current[0].id).toBe(sessions[1].sid);
      expect(res.body.filter((s: { current: boolean }) => s.current === false)).toHaveLength(2);
    });

    it('gives each session ISO timestamps and the User-Agent it signed in with', async () => {
      const { sessions } = await userWithSessions(3);
      const res = await t.http.get('/v1/me/sessions', { token: sessions[0].accessToken });

      expect(res.status).toBe(200);
      for (const mine of sessions) {
        const item = res.body.find((s: { id: string }) => s.id === mine.sid);
        expect(item).toBeDefined();
        expect(item.userAgent).toBe(mine.userAgent);
        expect(item.createdAt).toMatch(ISO_DATE);
        expect(item.lastUsedAt).toMatch(ISO_DATE);
        expect(item.expiresAt).toMatch(ISO_DATE);
        expect(new Date(item.expiresAt).getTime()).toBeGreaterThan(Date.now());
        expect(new Date(item.createdAt).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
      }
    });

    it("lists only the caller's own sessions", async () => {
      const { sessions } = await userWithSessions(1);
      const other = await registerAndLogin(t.http);
      const res = await t.http.get('/v1/me/sessions', { token: sessions[0].accessToken });

      expect(res.status).toBe(200);
      expect(res.body.map((s: { id: string }) => s.id)).toEqual([sessions[0].sid]);
      expect(res.body.map((s: { id: string }) => s.id)).not.toContain(other.sessionId);
    });

    it('needs a token: 401', async () => {
      expectProblem(await t.http.get('/v1/me/sessions'), 401, 'Unauthenticated');
    });
  });

  describe('DELETE /v1/me/sessions/{id}', () => {
    it('revokes another of my sessions: 204, its token is refused at once, mine still works', async () => {
      const { sessions } = await userWithSessions(2);
      const [mine, other] = sessions;
      const res = await t.http.delete(`/v1/me/sessions/${other.sid}`, undefined, { token: mine.accessToken });

      expect(res.status).toBe(204);
      expectProblem(await t.http.get('/v1/me', { token: other.accessToken }), 401, 'SessionRevoked');
      expect((await t.http.get('/v1/me', { token: mine.accessToken })).status).toBe(200);
    });

    it('a revoked session disappears from the list and its refresh token fails', async () => {
      const { sessions } = await userWithSessions(2);
      const [mine, other] = sessions;
      expect((await t.http.delete(`/v1/me/sessions/${other.sid}`, undefined, { token: mine.accessToken })).status).toBe(204);

      const list = await t.http.get('/v1/me/sessions', { token: mine.accessToken });
      expect(list.body.map((s: { id: string }) => s.id)).toEqual([mine.sid]);
      expectProblem(await t.http.post('/v1/auth/refresh', { refreshToken: other.refreshToken }), 401, 'InvalidRefreshToken');
    });

    it('answers 404 problem for an unknown session id', async () => {
      const { sessions } = await userWithSessions(1);
      const res = await t.http.delete(`/v1/me/sessions/${randomUUID()}`, undefined, { token: sessions[0].accessToken });

      expectProblem(res, 404, 'NotFound');
    });

    it("answers 404 for another user's session, which stays valid", async () => {
      const { sessions } = await userWithSessions(1);
      const victim = await registerAndLogin(t.http);
      const res = await t.http.delete(`/v1/me/sessions/${victim.sessionId}`, undefined, { token: sessions[0].accessToken });

      expectProblem(res, 404, 'NotFound');
      const stillMine = await t.http.get('/v1/me', { token: victim.accessToken });
      expect(stillMine.status).toBe(200);
      expect(stillMine.body.id).toBe(victim.id);
    });

    it('answers 400 for an id that is not a uuid', async () => {
      const { sessions } = await userWithSessions(1);
      const res = await t.http.delete('/v1/me/sessions/not-a-uuid', undefined, { token: sessions[0].accessToken });

      expectProblem(res, 400);
      expect((await t.http.get('/v1/me', { token: sessions[0].accessToken })).status).toBe(200);
    });

    it('revokes my own current session: 204, then my token is refused', async () => {
      const { sessions } = await userWithSessions(1);
      const [mine] = sessions;
      const res = await t.http.delete(`/v1/me/sessions/${mine.sid}`, undefined, { token: mine.accessToken });

      expect(res.status).toBe(204);
      expectProblem(await t.http.get('/v1/me', { token: mine.accessToken }), 401, 'SessionRevoked');
    });

    it('revoking an already revoked session: 404', async () => {
      const { sessions } = await userWithSessions(2);
      const [mine, other] = sessions;
      expect((await t.http.delete(`/v1/me/sessions/${other.sid}`, undefined, { token: mine.accessToken })).status).toBe(204);

      expectProblem(await t.http.delete(`/v1/me/sessions/${other.sid}`, undefined, { token: mine.accessToken }), 404, 'NotFound');
    });
  });

  describe('DELETE /v1/me/sessions', () => {
    it('ends every other session: 204, their tokens are refused, mine works', async () => {
      const { sessions } = await userWithSessions(3);
      const [first, mine, third] = sessions;
      const res = await t.http.delete('/v1/me/sessions', undefined, { token: mine.accessToken });

      expect(res.status).toBe(204);
      expectProblem(await t.http.get('/v1/me', { token: first.accessToken }), 401, 'SessionRevoked');
      expectProblem(await t.http.get('/v1/me', { token: third.accessToken }), 401, 'SessionRevoked');
      expect((await t.http.get('/v1/me', { token: mine.accessToken })).status).toBe(200);
    });

    it('leaves exactly my session in the list', async () => {
      const { sessions } = await userWithSessions(3);
      const mine = sessions[2];
      expect((await t.http.delete('/v1/me/sessions', undefined, { token: mine.accessToken })).status).toBe(204);

      const list = await t.http.get('/v1/me/sessions', { token: mine.accessToken });
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(1);
      expect(list.body[0]).toMatchObject({ id: mine.sid, current: true });
    });

    it("leaves other users' sessions alone", async () => {
      const { sessions } = await userWithSessions(2);
      const bystander = await registerAndLogin(t.http);
      expect((await t.http.delete('/v1/me/sessions', undefined, { token: sessions[0].accessToken })).status).toBe(204);

      expect((await t.http.get('/v1/me', { token: bystander.accessToken })).status).toBe(200);
    });
  });
});
