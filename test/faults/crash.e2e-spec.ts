import { Client } from 'pg';
import { GOOD_PASSWORD, testDatabaseUrl, unique } from '../support/app';
import { HttpClient } from '../support/http';
import { AppProcess, spawnApp } from '../support/process';
import { registerAndLogin, SignedInUser } from '../support/users';

const NEW_PASSWORD = 'A new passphrase after the crash';
const EACH = 25;
/** The app is killed once this many of the 50 writes have answered: the rest are in flight. */
const KILL_AFTER_ANSWERS = 10;

/**
 * SIGKILL while 25 registrations and 25 password changes run: after a restart every request that
 * was answered 2xx is in effect, and nothing is half-written (a user without its password or its
 * registration event, a session without its refresh token, a password changed without its event).
 */
describe('fault: SIGKILL mid-write', () => {
  let url: string;
  let first: AppProcess | undefined;
  let second: AppProcess | undefined;

  beforeAll(async () => {
    url = await testDatabaseUrl();
  });
  afterAll(async () => {
    await first?.stop();
    await second?.stop();
  });

  it('every 2xx is in effect after a restart, and no user or session is half-written', async () => {
    first = await spawnApp({ DATABASE_URL: url });
    const changers: SignedInUser[] = [];
    for (let batch = 0; batch < EACH / 5; batch++) changers.push(...(await Promise.all(Array.from({ length: 5 }, () => registerAndLogin(first!.http)))));

    type Write = { kind: 'register'; email: string } | { kind: 'change'; user: SignedInUser };
    const writes: Write[] = [
      ...Array.from({ length: EACH }, (): Write => ({ kind: 'register', email: `${unique('crash')}@example.com` })),
      ...changers.map((user): Write => ({ kind: 'change', user })),
    ].sort(() => Math.random() - 0.5);

    let answered = 0;
    const app = first;
    const results = await Promise.all(
      writes.map(async (write) => {
        const send =
          write.kind === 'register'
            ? app.http.post('/v1/auth/register', { email: write.email, password: GOOD_PASSWORD })
            : app.http.put('/v1/me/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, { token: write.user.accessToken });
        const status = await send.then(
          (res) => res.status,
          () => 0, // the connection died with the process
        );
        if (++answered === KILL_AFTER_ANSWERS) app.kill('SIGKILL');
        return { write, status };
      }),
    );
    expect((await app.exited).signal).toBe('SIGKILL');
    const ok = results.filter((result) => result.status >= 200 && result.status < 300);
    const cut = results.filter((result) => result.status === 0);
    // Not vacuous: some writes were answered, and many were in flight when the process died.
    expect(ok.length).toBeGreaterThanOrEqual(KILL_AFTER_ANSWERS - 2);
    expect(cut.length).toBeGreaterThanOrEqual(EACH / 2);
    expect(results.filter((result) => result.status !== 0 && (result.status < 200 || result.status >= 300))).toEqual([]);

    second = await spawnApp({ DATABASE_URL: url }, { waitFor: 'ready' });
    const http = second.http;
    const signsIn = async (client: HttpClient, login: string, password: string) => (await client.post('/v1/auth/login', { login, password })).status === 200;

    const passwordChanged = new Map<string, boolean>();
    for (const { write, status } of results) {
      if (write.kind === 'register') {
        const exists = await signsIn(http, write.email, GOOD_PASSWORD);
        if (status === 201) expect({ email: write.email, exists }).toEqual({ email: write.email, exists: true });
      } else {
        const changed = await signsIn(http, write.user.email, NEW_PASSWORD);
        const unchanged = await signsIn(http, write.user.email, GOOD_PASSWORD);
        passwordChanged.set(write.user.id, changed);
        // Exactly one password works, whatever the answer was; a 204 means the new one.
        expect({ email: write.user.email, changed, unchanged }).toEqual({
          email: write.user.email,
          changed: status === 204 ? true : changed,
          unchanged: !changed,
        });
      }
    }

    // Nothing half-written anywhere in this database.
    const db = (sql: string) => queryCount(url, sql);
    expect(
      await db(`SELECT count(*)::int AS n FROM users u WHERE NOT EXISTS (SELECT 1 FROM credentials c WHERE c.user_id = u.id AND c.type = 'password')`),
    ).toBe(0);
    expect(
      await db(
        `SELECT count(*)::int AS n FROM users u WHERE NOT EXISTS (SELECT 1 FROM security_events e WHERE e.user_id = u.id AND e.type = 'account.created')`,
      ),
    ).toBe(0);
    expect(await db(`SELECT count(*)::int AS n FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id)`)).toBe(0);
    expect(
      await db(
        `SELECT count(*)::int AS n FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM security_events e WHERE e.session_id = s.id AND e.type = 'sign_in.succeeded')`,
      ),
    ).toBe(0);
    // A password that changed has its event (same transaction); one that did not, none.
    for (const [userId, changed] of passwordChanged) {
      const events = await db(`SELECT count(*)::int AS n FROM security_events WHERE user_id = '${userId}' AND type = 'password.changed'`);
      expect({ userId, events }).toEqual({ userId, events: changed ? 1 : 0 });
    }
  }, 180_000);
});

async function queryCount(url: string, sql: string): Promise<number> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0].n;
  } finally {
    await client.end();
  }
}
