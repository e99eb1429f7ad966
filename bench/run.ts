// `npm run bench`: throughput of the hot paths, reported as ratios to ceilings measured in the
// same run on the same machine (never as absolute timings):
//   sign-in        vs raw argon2id verify throughput (a sign-in is one verify plus bookkeeping)
//   token check    vs the bare framework endpoint GET /health/live (same app, no auth, no database)
// The server runs as its own process (node dist/main.js); the load comes from this process.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as argon2 from 'argon2';
import autocannon from 'autocannon';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { ARGON2_OPTIONS } from '../src/credentials/password-hasher.service';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PORT = 30_000 + Math.floor(Math.random() * 20_000);
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'Bench passphrase 2026!';

async function post(path: string, body: unknown): Promise<any> {
  const res = await fetch(BASE + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return res.json();
}

async function argon2VerifiesPerSecond(concurrency: number): Promise<number> {
  const hash = await argon2.hash(PASSWORD, ARGON2_OPTIONS);
  const deadline = Date.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        await argon2.verify(hash, PASSWORD);
        done++;
      }
    }),
  );
  return done / SECONDS;
}

async function load(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ duration: SECONDS, ...options, url: BASE + options.url });
}

async function main(): Promise<void> {
  let databaseUrl = process.env.DATABASE_URL;
  let stopDatabase = async () => undefined as void;
  if (!databaseUrl) {
    const folder = mkdtempSync(join(tmpdir(), 'identity-bench-'));
    chmodSync(folder, 0o755);
    const database = await startEmbeddedPostgres({ dir: join(folder, 'pg'), throwaway: true });
    databaseUrl = database.url;
    stopDatabase = database.stop;
  }
  const server = spawn(process.execPath, ['dist/main.js'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(PORT), HOST: '127.0.0.1', LOG_LEVEL: 'warn', RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      if (i > 120) throw new Error('server did not become ready');
      const ready = await fetch(`${BASE}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const email = `bench-${Date.now()}@example.com`;
    await post('/v1/auth/register', { email, password: PASSWORD });
    const { accessToken } = await post('/v1/auth/login', { login: email, password: PASSWORD });

    // The thread pool has 4 threads by default (UV_THREADPOOL_SIZE); 2 cores here.
    const argonCeiling = await argon2VerifiesPerSecond(4);
    const login = await load({
      url: '/v1/auth/login',
      method: 'POST',
      connections: 4,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: email, password: PASSWORD }),
    });
    const bare = await load({ url: '/health/live', connections: 32 });
    const me = await load({ url: '/v1/me', connections: 32, headers: { authorization: `Bearer ${accessToken}` } });

    const failed = (r: autocannon.Result) => r.non2xx + r.errors;
    const rows = [
      { what: 'argon2id verify (raw, in-process)', perSecond: argonCeiling, p99: '', ratio: '' },
      {
        what: 'POST /v1/auth/login',
        perSecond: login.requests.average,
        p99: `${login.latency.p99} ms`,
        ratio: (login.requests.average / argonCeiling).toFixed(2) + ' of argon2',
      },
      { what: 'GET /health/live (bare endpoint)', perSecond: bare.requests.average, p99: `${bare.latency.p99} ms`, ratio: '' },
      {
        what: 'GET /v1/me (token check + profile)',
        perSecond: me.requests.average,
        p99: `${me.latency.p99} ms`,
        ratio: (me.requests.average / bare.requests.average).toFixed(2) + ' of bare',
      },
    ];
    console.log(`\nBenchmark (${SECONDS} s per measurement, server and load on this machine)`);
    console.table(rows.map((row) => ({ ...row, perSecond: Math.round(row.perSecond) })));
    const errors = failed(login) + failed(bare) + failed(me);
    if (errors) {
      console.error(`${errors} requests failed (non-2xx or errors): the numbers above are not valid`);
      process.exitCode = 1;
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await stopDatabase();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
