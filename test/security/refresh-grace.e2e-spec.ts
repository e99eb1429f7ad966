import { createHash } from 'node:crypto';
import { startApp, TestApp } from '../support/app';
import { HttpResponse } from '../support/http';
import { registerAndLogin, SignedInUser } from '../support/users';

/**
 * SPEC §5, the grace rule: a retry of a just-rotated refresh token within 5 s (parallel tabs) gets
 * the same refresh token the rotation issued and a fresh access token; a session never has more
 * than one live refresh token; later reuse of any older token revokes the session. Over HTTP, on
 * /v1 and on 002, which share the sessions.
 */

const PARALLEL = 20;

const sha256 = (token: string): Buffer => createHash('sha256').update(token).digest();

interface Surface {
  name: string;
  /** A fresh session's refresh token, signed in through this surface. */
  signIn(http: TestApp['http'], user: SignedInUser): Promise<string>;
  refresh(http: TestApp['http'], refreshToken: string): Promise<HttpResponse>;
  refreshOf(res: HttpResponse): string;
  accessOf(res: HttpResponse): string;
  /** A request that needs the access token: 200 while the session is live. */
  me(http: TestApp['http'], accessToken: string): Promise<HttpResponse>;
}

const SURFACES: Surface[] = [
  {
    name: '/v1 (/v1/auth/refresh)',
    signIn: async (http, user) => {
      const res = await http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(res.status).toBe(200);
      return res.body.refreshToken;
    },
    refresh: (http, refreshToken) => http.post('/v1/auth/refresh', { refreshToken }),
    refreshOf: (res) => res.body.refreshToken,
    accessOf: (res) => res.body.accessToken,
    me: (http, token) => http.get('/v1/me', { token }),
  },
  {
    name: '002 (/users/auth/token/refresh/)',
    signIn: async (http, user) => {
      const res = await http.post('/users/auth/token/', { email: user.email, password: user.password });
      expect(res.status).toBe(200);
      return res.body.refresh;
    },
    refresh: (http, refresh) => http.post('/users/auth/token/refresh/', { refresh }),
    refreshOf: (res) => res.body.refresh,
    accessOf: (res) => res.body.access,
    me: (http, token) => http.get('/users/user/', { token }),
  },
];

describe('refresh grace window (SPEC §5)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  async function sessionOf(refreshToken: string): Promise<{ id: string; generation: number; revokedReason: string | null }> {
    const rows = await t.db.query(
      `SELECT s.id, s.refresh_generation AS generation, s.revoked_reason AS "revokedReason"
         FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.token_hash = $1`,
      [sha256(refreshToken)],
    );
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  /** The session's refresh-token rows, oldest first: what the database holds. */
  async function tokenRows(sessionId: string): Promise<Array<{ hash: Buffer; generation: number }>> {
    return t.db.query(`SELECT token_hash AS hash, generation FROM refresh_tokens WHERE session_id = $1 ORDER BY generation`, [sessionId]);
  }

  function expectStatuses(answers: HttpResponse[], status: number): void {
    expect(answers.map((answer) => (answer.status === status ? status : `${answer.status} ${answer.text}`))).toEqual(answers.map(() => status));
  }

  describe.each(SURFACES)('$name', (surface) => {
    it(`${PARALLEL} parallel refreshes with one token: all 200 with the same refresh token, and one live refresh token afterwards`, async () => {
      const user = await registerAndLogin(t.http);
      const original = await surface.signIn(t.http, user);
      const session = await sessionOf(original);

      const answers = await Promise.all(Array.from({ length: PARALLEL }, () => surface.refresh(t.http, original)));

      expectStatuses(answers, 200);
      const issued = new Set(answers.map(surface.refreshOf));
      expect(issued.size).toBe(1);
      const [shared] = issued;
      expect(shared).toMatch(/^[A-Za-z0-9_-]{43,}$/);
      expect(shared).not.toBe(original);
      // Fresh access tokens, every one good.
      expect(new Set(answers.map(surface.accessOf)).size).toBe(PARALLEL);
      expectStatuses(await Promise.all(answers.map((answer) => surface.me(t.http, surface.accessOf(answer)))), 200);

      // One rotation happened: the original and the shared token are the only rows, the shared one
      // current, each stored as its SHA-256 only.
      expect(await sessionOf(shared)).toEqual({ id: session.id, generation: 1, revokedReason: null });
      expect(await tokenRows(session.id)).toEqual([
        { hash: sha256(original), generation: 0 },
        { hash: sha256(shared), generation: 1 },
      ]);

      // The shared token works once more (and rotates); the original is now dead and kills the session.
      const next = await surface.refresh(t.http, shared);
      expect(next.status).toBe(200);
      expect(surface.refreshOf(next)).not.toBe(shared);
      expect((await surface.refresh(t.http, original)).status).toBe(401);
      expect((await sessionOf(original)).revokedReason).toBe('refresh_token_reuse');
      expect((await surface.refresh(t.http, surface.refreshOf(next))).status).toBe(401);
      expect((await surface.me(t.http, surface.accessOf(next))).status).toBe(401);
    });

    it("a retry after the grace window revokes the session, the rotation's token with it", async () => {
      const user = await registerAndLogin(t.http);
      const original = await surface.signIn(t.http, user);
      const rotated = await surface.refresh(t.http, original);
      expect(rotated.status).toBe(200);
      const inGrace = await surface.refresh(t.http, original);
      expect(surface.refreshOf(inGrace)).toBe(surface.refreshOf(rotated));
      const { id } = await sessionOf(original);
      await t.db.query(`UPDATE sessions SET rotated_at = rotated_at - interval '6 seconds' WHERE id = $1`, [id]);

      expect((await surface.refresh(t.http, original)).status).toBe(401);
      expect((await sessionOf(original)).revokedReason).toBe('refresh_token_reuse');
      expect((await surface.refresh(t.http, surface.refreshOf(rotated))).status).toBe(401);
      expect((await surface.me(t.http, surface.accessOf(inGrace))).status).toBe(401);
    });
  });

  describe('two instances on one database', () => {
    let b: TestApp;
    let secretBefore: Buffer;
    beforeAll(async () => {
      [{ secret: secretBefore }] = await t.db.query(`SELECT secret FROM server_secrets WHERE name = 'refresh-token'`);
      b = await startApp();
    });
    afterAll(() => b.close());

    it('share one refresh-token secret: a second start generates none', async () => {
      // (server_secrets also holds other named secrets, e.g. the key that seals TOTP secrets.)
      const rows: Array<{ secret: Buffer }> = await t.db.query(`SELECT secret FROM server_secrets WHERE name = 'refresh-token'`);
      expect(rows).toHaveLength(1);
      expect(rows[0].secret.equals(secretBefore)).toBe(true);
      expect(secretBefore).toHaveLength(32);
    });

    it('a rotation on A and a grace retry on B give the same refresh token', async () => {
      const user = await registerAndLogin(t.http);
      const rotated = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      const retry = await b.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expect([rotated.status, retry.status]).toEqual([200, 200]);
      expect(retry.body.refreshToken).toBe(rotated.body.refreshToken);
      expect((await b.http.post('/v1/auth/refresh', { refreshToken: rotated.body.refreshToken })).status).toBe(200);
    });
  });
});
