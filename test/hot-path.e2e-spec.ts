import { Client } from 'pg';
import { startApp, TestApp } from './support/app';
import { registerAndLogin } from './support/users';

/** SPEC: the hot path (token check, profile read) costs one database round trip or fewer. */
describe('hot path database round trips', () => {
  let t: TestApp;
  // The spy counts every query of the process: no outbox dispatcher polling in the background.
  beforeAll(async () => (t = await startApp({ OUTBOX_DISPATCH: 'false' })));
  afterAll(() => t.close());

  async function countQueries(action: () => Promise<unknown>): Promise<string[]> {
    const seen: string[] = [];
    const original = Client.prototype.query;
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
      seen.push(String(text));
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    try {
      await action();
    } finally {
      spy.mockRestore();
    }
    return seen;
  }

  it('GET /v1/me (token check and profile read) is one query', async () => {
    const user = await registerAndLogin(t.http);
    let status = 0;
    const queries = await countQueries(async () => {
      status = (await t.http.get('/v1/me', { token: user.accessToken })).status;
    });
    expect(status).toBe(200);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/FROM "users".*INNER JOIN "sessions"/s);
  });

  it('a revoked token is refused after the same single query', async () => {
    const user = await registerAndLogin(t.http);
    await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken });
    let status = 0;
    const queries = await countQueries(async () => {
      status = (await t.http.get('/v1/me', { token: user.accessToken })).status;
    });
    expect(status).toBe(401);
    expect(queries).toHaveLength(1);
  });
});
