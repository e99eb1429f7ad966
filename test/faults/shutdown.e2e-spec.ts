import { connect, createServer, Server, Socket } from 'node:net';
import { Client } from 'pg';
import { testDatabaseUrl, unique } from '../support/app';
import { AppProcess, spawnApp } from '../support/process';
import { registerAndLogin } from '../support/users';

/** Resolves with the error code when nothing accepts a connection on `port`, or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Graceful shutdown on SIGTERM: the app stops accepting connections at once, finishes the requests
 * in flight (for up to SHUTDOWN_GRACE_MS, then cuts them off), releases the outbox leases of the
 * deliveries it could not finish, and exits 0.
 */
describe('fault: graceful shutdown on SIGTERM', () => {
  let url: string;
  let db: Client;
  let app: AppProcess | undefined;

  beforeAll(async () => {
    url = await testDatabaseUrl();
    db = new Client({ connectionString: url });
    await db.connect();
  });
  afterAll(async () => {
    await app?.stop();
    await db.end();
  });
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  /**
   * Holds the user's row locked from another connection, so a profile update of that user stays in
   * flight (its UPDATE waits) until `release`.
   */
  async function holdUserRow(userId: string): Promise<{ release: () => Promise<void> }> {
    const holder = new Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
    return {
      release: async () => {
        await holder.query('COMMIT');
        await holder.end();
      },
    };
  }

  async function waitForBlockedQuery(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (rows[0].n > 0) return;
      await sleep(50);
    }
    throw new Error('the request never reached its UPDATE');
  }

  it('writes its log lines in batches, but each reaches stdout within about a second and at exit', async () => {
    app = await spawnApp({ DATABASE_URL: url, LOG_LEVEL: 'info' });
    const requestId = unique('log-line');
    // (/health/* logs at debug: a request that logs at warn.)
    expect((await app.http.get('/v1/me', { headers: { 'x-request-id': requestId } })).status).toBe(401);
    const started = Date.now();
    while (!app.output().includes(requestId) && Date.now() - started < 3000) await sleep(50);
    expect(app.output()).toContain(requestId);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops accepting at once, finishes the request in flight, then exits 0', async () => {
    app = await spawnApp({ DATABASE_URL: url, SHUTDOWN_GRACE_MS: '5000', LOG_LEVEL: 'info' });
    const user = await registerAndLogin(app.http);
    const lock = await holdUserRow(user.id);
    const name = unique('Finished');
    const inFlight = app.http.patch('/v1/me', { name }, { token: user.accessToken, timeoutMs: 10_000 });
    await waitForBlockedQuery();

    const signalledAt = Date.now();
    app.kill('SIGTERM');
    await sleep(300);
    expect(await tryConnect(app.port)).toBe('ECONNREFUSED');
    expect(app.hasExited).toBe(false);

    await sleep(700);
    await lock.release();
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe(name);
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(3000); // not the whole grace: idle kept-alive connections do not hold it up
    const { rows } = await db.query('SELECT name FROM users WHERE id = $1', [user.id]);
    expect(rows[0].name).toBe(name);
    expect(app.output()).toContain('stopped');
  });

  it('cuts off what is still in flight when SHUTDOWN_GRACE_MS is over, and still exits 0', async () => {
    const graceMs = 1500;
    app = await spawnApp({ DATABASE_URL: url, SHUTDOWN_GRACE_MS: String(graceMs) });
    const user = await registerAndLogin(app.http);
    const lock = await holdUserRow(user.id);
    const inFlight = app.http.patch('/v1/me', { name: 'Never answered' }, { token: user.accessToken, timeoutMs: 10_000 }).then(
      (res) => ({ status: res.status, at: Date.now() }),
      () => ({ status: 0, at: Date.now() }),
    );
    await waitForBlockedQuery();

    const signalledAt = Date.now();
    app.kill('SIGTERM');
    const cut = await inFlight;
    expect(cut.status).toBe(0); // the connection was closed without an answer
    expect(cut.at - signalledAt).toBeGreaterThanOrEqual(graceMs - 100);
    expect(cut.at - signalledAt).toBeLessThan(graceMs + 1000);
    // The database work it started still ends (the pool closes once it does).
    await lock.release();
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.output()).toContain('grace period (1500 ms) over');
  });

  describe('the outbox', () => {
    let silent: Server;
    let port: number;
    const sockets: Socket[] = [];

    beforeAll(async () => {
      // An SMTP server that accepts the connection and never greets: a delivery hangs (5 s greeting timeout).
      silent = createServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    });

    it('releases the lease of a delivery it could not finish, so another instance sends it at once', async () => {
      app = await spawnApp({
        DATABASE_URL: url,
        SHUTDOWN_GRACE_MS: '1000',
        SMTP_URL: `smtp://127.0.0.1:${port}`,
        OUTBOX_POLL_INTERVAL_MS: '50',
        LOG_LEVEL: 'warn',
      });
      const recipient = `${unique('lease')}@example.com`;
      const {
        rows: [{ id }],
      } = await db.query(
        `INSERT INTO outbox_messages (channel, recipient, template, subject, text_body) VALUES ('email', $1, 'password-changed', 'Lease test', 'x') RETURNING id`,
        [recipient],
      );
      // Claimed: one attempt counted, leased for minutes.
      let claimed: { attempts: number; leased_for: number } | undefined;
      for (let i = 0; i < 100 && !claimed; i++) {
        const { rows } = await db.query(
          `SELECT attempts, extract(epoch FROM next_attempt_at - now())::float8 AS leased_for FROM outbox_messages WHERE id = $1`,
          [id],
        );
        if (rows[0].attempts === 1) claimed = rows[0];
        else await sleep(50);
      }
      expect(claimed?.leased_for).toBeGreaterThan(60);
      // The delivery is talking to the silent server (the claim comes just before the connection).
      for (let i = 0; i < 100 && sockets.length === 0; i++) await sleep(50);
      expect(sockets.length).toBeGreaterThan(0);

      const signalledAt = Date.now();
      app.kill('SIGTERM');
      expect(await app.exited).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalledAt).toBeLessThan(4000); // not the 5 s the delivery would have taken

      const { rows } = await db.query(`SELECT status, attempts, next_attempt_at <= now() AS due FROM outbox_messages WHERE id = $1`, [id]);
      expect(rows[0]).toEqual({ status: 'pending', attempts: 1, due: true });
      expect(app.output()).toContain('outbox leases released');
      await db.query(`DELETE FROM outbox_messages WHERE id = $1`, [id]);
    });
  });
});
