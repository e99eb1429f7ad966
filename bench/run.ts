// `npm run bench [-- --quick] [-- --users 1000000] [-- --seconds 5]`: throughput of the hot paths,
// reported as ratios to ceilings measured in the same run on the same machine (bench/ceilings.ts),
// never as absolute timings alone. Writes bench/results.json (raw) and bench/RESULTS.md.
//
// The app runs as its own process (node dist/main.js, LOG_LEVEL=info, stdout to /dev/null), each
// ceiling in its own process, the load (autocannon) in this one. Never part of `npm test`.
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import * as argon2 from 'argon2';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { CredentialsRepository } from '../src/credentials/credentials.repository';
import { ARGON2_OPTIONS } from '../src/credentials/password-hasher.service';
import { SessionsRepository } from '../src/auth/sessions.repository';
import { dataSourceOptions } from '../src/database/data-source';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { threadPoolSize } from '../src/threadpool';
import { UsersRepository } from '../src/users/users.repository';
import { User } from '../src/users/user.entity';
import { summarizeProfile, ProfileSummary } from './profile';
import { freePort } from '../src/common/free-port';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const QUICK = args.includes('--quick');
const SCALE_USERS = Number(option('--users') ?? 0);
const SECONDS = Number(option('--seconds') ?? process.env.BENCH_SECONDS ?? (QUICK ? 1 : 5));
const WARMUP_SECONDS = QUICK ? 0.25 : 2;
const PASSWORD = 'Bench passphrase 2026!';
const THREADS = threadPoolSize();
/** `--only <regex>`: measure only what matches (ceilings and scenarios, by name); for working on one path. */
const ONLY = option('--only') ? new RegExp(option('--only')!, 'i') : undefined;
/** The V8 flags and malloc tunables `npm start` (and the Dockerfile) run the app with. */
const APP_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=256'];
const APP_ENV = { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1048576:glibc.malloc.hugetlb=1' };
/** In-flight sign-ins: enough to keep every pool thread busy. */
const ARGON2_CONCURRENCY = THREADS * 2;

interface Measured {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  status5xx: number;
  errors: number;
  /** Answers other than the expected status (2xx, or 401 for the bad-token scenario). */
  unexpected: number;
  connections: number;
  /** The app's RSS (MB) right after the measurement (how memory grows through the run). */
  appRssMb?: number;
  /** Where the CPU went during the load, in cores (for the argon2id-bound scenarios). */
  cpu?: CpuSplit;
  /** The first unexpected answers, for the diagnosis. */
  samples?: { status: number; body: string }[];
}

interface Row extends Measured {
  ceiling?: string;
  ratio?: number;
  target?: string;
  met?: boolean;
}

const results: {
  ceilings: Record<string, Measured | { name: string; rps: number }>;
  scenarios: Row[];
  scale?: unknown;
  memory?: unknown;
  profile?: ProfileSummary;
  explain?: Record<string, string>;
  machine?: unknown;
} = {
  ceilings: {},
  scenarios: [],
};

async function waitFor(url: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (i > 240) throw new Error(`${what} did not become ready`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const children: ChildProcess[] = [];
/** The measured app's pid, once it runs. */
let appPid: number | undefined;
/** The embedded cluster's folder (its postmaster.pid names the server process), when the bench started it. */
let clusterDir: string | undefined;
function child(command: string, argv: string[], env: Record<string, string>, stdio: 'ignore' | 'pipe' = 'ignore', ipc = false): ChildProcess {
  const process_ = spawn(command, argv, {
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', stdio, 'inherit', 'ipc'] : ['ignore', stdio, 'inherit'],
  });
  children.push(process_);
  return process_;
}

async function stop(process_: ChildProcess): Promise<void> {
  if (process_.exitCode !== null || process_.signalCode !== null) return;
  const exited = new Promise((r) => process_.once('exit', r));
  process_.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (process_.exitCode === null && process_.signalCode === null) process_.kill('SIGKILL');
}

/** A ceiling server from bench/ceilings.ts; resolves with its base URL once it says "ready". */
async function ceilingServer(kind: string, databaseUrl: string): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const process_ = child(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'bench/ceilings.ts', kind, String(port)],
    { DATABASE_URL: databaseUrl },
    'pipe',
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    process_.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready')) resolve();
    });
    process_.once('exit', (code) => reject(new Error(`ceiling ${kind} exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, process: process_ };
}

/** Per connection: its own item (token, user, session) and what the last answer taught it. */
interface ConnectionState<T> {
  item?: T;
}

interface Load<T> {
  url: string;
  connections: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** One item per connection (round robin); `request` builds each request from it. */
  items?: T[];
  request?: (item: T, state: ConnectionState<T>) => { headers?: Record<string, string>; body?: string; path?: string };
  /** Learns from each answer (the rotated refresh token). */
  answer?: (item: T, status: number, body: string) => void;
  expectStatus?: number;
  seconds?: number;
  /** Also measure where the machine's CPU time went during the load (see cpuSplit). */
  cpu?: boolean;
}

async function measure<T>(name: string, load: Load<T>, warmup = true): Promise<Measured> {
  if (ONLY && !ONLY.test(name))
    return { name, rps: NaN, p50: NaN, p99: NaN, requests: 0, non2xx: 0, status5xx: 0, errors: 0, unexpected: 0, connections: load.connections };
  const samples: { status: number; body: string }[] = [];
  const run = async (seconds: number) => {
    let next = 0;
    const { url, items, request, answer } = load;
    const parsed = new URL(url);
    const options: autocannon.Options = {
      url: parsed.origin,
      connections: load.connections,
      duration: seconds,
      method: load.method ?? 'GET',
      headers: { ...(load.body ? { 'content-type': 'application/json' } : {}), ...load.headers },
      body: load.body,
      requests: [
        {
          path: parsed.pathname + parsed.search,
          // Cloned per connection by autocannon: each connection keeps its own state.
          state: {},
          setupRequest(req: autocannon.Request & { state: ConnectionState<T> }) {
            if (!items || !request) return req;
            req.state.item ??= items[next++ % items.length];
            const built = request(req.state.item, req.state);
            return { ...req, ...built, headers: { ...req.headers, ...built.headers } };
          },
          onResponse(this: { state: ConnectionState<T> }, status: number, body: string) {
            if (answer && this.state.item !== undefined) answer(this.state.item, status, body);
            const expected = load.expectStatus ? status === load.expectStatus : status >= 200 && status < 300;
            if (!expected && samples.length < 3) samples.push({ status, body: String(body).slice(0, 300) });
          },
        } as unknown as autocannon.Request,
      ],
    };
    return autocannon(options);
  };
  if (warmup) await run(WARMUP_SECONDS);
  const cpuBefore = load.cpu ? cpuTimes() : undefined;
  const result = await run(load.seconds ?? SECONDS);
  const cpu = cpuBefore ? cpuSplit(cpuBefore, cpuTimes(), result.duration) : undefined;
  const expected = load.expectStatus;
  const statusCounts = result.statusCodeStats ?? {};
  const total = Object.values(statusCounts).reduce((sum, { count = 0 }) => sum + count, 0);
  const expectedCount = expected ? (statusCounts[String(expected) as `${number}`]?.count ?? 0) : result['2xx'];
  const measured: Measured = {
    name,
    rps: total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: total,
    non2xx: result.non2xx,
    status5xx: result['5xx'],
    errors: result.errors + result.timeouts,
    unexpected: total - expectedCount + result.errors + result.timeouts,
    connections: load.connections,
    ...(appPid ? { appRssMb: memoryOf(appPid).rssMb } : {}),
    ...(cpu ? { cpu } : {}),
    ...(samples.length ? { samples } : {}),
  };
  console.log(
    `${name.padEnd(58)} ${Math.round(measured.rps).toString().padStart(7)} req/s  p50 ${measured.p50} ms  p99 ${measured.p99} ms${measured.unexpected ? `  UNEXPECTED ${measured.unexpected}: ${JSON.stringify(samples)}` : ''}`,
  );
  return measured;
}

function ratioRow(measured: Measured, ceilingKey: string, min?: number, extra?: { p99Below?: number }): Row {
  if (Number.isNaN(measured.rps)) return { ...measured }; // left out by --only
  const ceiling = results.ceilings[ceilingKey];
  const ratio = ceiling ? measured.rps / ceiling.rps : undefined;
  const okRatio = min === undefined || (ratio !== undefined && ratio >= min);
  const okP99 = extra?.p99Below === undefined || measured.p99 < extra.p99Below;
  const target = min === undefined ? undefined : `≥ ${min.toFixed(2)}×${extra?.p99Below ? `, p99 < ${extra.p99Below} ms` : ''}`;
  const row: Row = { ...measured, ceiling: ceiling?.name, ratio, target, met: min === undefined ? undefined : okRatio && okP99 && measured.unexpected === 0 };
  results.scenarios.push(row);
  return row;
}

/**
 * The ceiling a CPU-bound scenario can reach on these cores: per request, the CPU argon2id needs
 * and the CPU everything else needs (the app's main and other threads, PostgreSQL, the load
 * generator); with the cores saturated, argon2id gets at most its share of the sum.
 */
function perRequestBound(row: Row): string {
  const cpu = row.cpu!;
  const ms = (cores: number) => (cores * 1000) / row.rps;
  const argon2 = ms(cpu.appPoolThreads.reduce((a, b) => a + b, 0));
  const rest = ms(cpu.appMainThread + cpu.appOtherThreads + cpu.postgres + cpu.loadGenerator + cpu.other);
  return (
    `Per request: ${argon2.toFixed(1)} ms of CPU in argon2id, ${rest.toFixed(1)} ms everywhere else (main thread ${ms(cpu.appMainThread).toFixed(1)}, ` +
    `other app threads ${ms(cpu.appOtherThreads).toFixed(1)}, PostgreSQL ${ms(cpu.postgres).toFixed(1)}, load generator ${ms(cpu.loadGenerator).toFixed(1)}); ` +
    `with every core busy that caps this scenario at ${(argon2 / (argon2 + rest)).toFixed(2)} of the raw ceiling.`
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg();
  let databaseUrl = process.env.DATABASE_URL;
  let stopDatabase = async () => undefined as void;
  if (!databaseUrl) {
    const folder = mkdtempSync(join(tmpdir(), 'identity-bench-'));
    chmodSync(folder, 0o755);
    clusterDir = join(folder, 'pg');
    const database = await startEmbeddedPostgres({ dir: clusterDir, throwaway: true });
    databaseUrl = database.url;
    stopDatabase = database.stop;
  }
  const db = new Client({ connectionString: databaseUrl });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = child(process.execPath, [...APP_NODE_FLAGS, 'dist/main.js'], {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...APP_ENV,
    LOG_LEVEL: 'info', // the access log stays on: one line per request, as in production
    RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1', // one client address for all the load
  });
  // The ceilings without a database start beside the app; the others once its migrations ran.
  const early = Object.fromEntries(['fastify-hello', 'nest-hello'].map((kind) => [kind, ceilingServer(kind, databaseUrl!)] as const));
  try {
    await waitFor(`${base}/health/ready`, server, 'the app');
    appPid = server.pid;
    await db.connect();
    const rssIdle = memoryOf(server.pid!);
    console.log(
      `app ready (pid ${server.pid}, UV_THREADPOOL_SIZE ${THREADS}, RSS ${rssIdle.rssMb} MB idle); ${SECONDS} s per measurement${QUICK ? ' (quick)' : ''}`,
    );

    // Seed: users with a password credential in one statement (as --users does at scale).
    const hash = await argon2.hash(PASSWORD, ARGON2_OPTIONS);
    const benchUsers = await seedUsers(db, `b${Date.now().toString(36)}`, 200, hash);
    const owner = benchUsers[0];

    // Ceilings, each in its own process.
    console.log('\nceilings of the reads');
    const ceilingKinds = ['verify-query', ...(QUICK ? [] : ['verify-query-unnamed']), 'refresh-tx'];
    const ceilings = {
      ...Object.fromEntries(await Promise.all(Object.entries(early).map(async ([kind, started]) => [kind, await started] as const))),
      ...Object.fromEntries(await Promise.all(ceilingKinds.map(async (kind) => [kind, await ceilingServer(kind, databaseUrl!)] as const))),
    };
    const access = await accessTokens(db, base, owner.id, 50);
    results.ceilings['fastify-hello'] = await measure('ceiling: bare Fastify hello', { url: `${ceilings['fastify-hello'].url}/`, connections: 50 });
    results.ceilings['nest-hello'] = await measure('ceiling: Nest + Fastify hello behind a global guard', {
      url: `${ceilings['nest-hello'].url}/`,
      connections: 50,
    });
    results.ceilings['verify-query'] = await measure('ceiling: ES256 verify + one prepared query', bearerLoad(`${ceilings['verify-query'].url}/`, access));
    if (!QUICK)
      results.ceilings['verify-query-unnamed'] = await measure(
        'reference: ES256 verify + the same query unnamed',
        bearerLoad(`${ceilings['verify-query-unnamed'].url}/`, access),
      );

    // The app. Each group of scenarios runs right after its ceilings, so a slow drift of the
    // machine's load (other work on it) moves both alike.
    console.log('\nthe app');
    ratioRow(await measure('GET /health/live', { url: `${base}/health/live`, connections: 50 }), 'nest-hello', 0.5);
    ratioRow(await measure('GET /v1/me', bearerLoad(`${base}/v1/me`, access)), 'fastify-hello', 0.3, { p99Below: 20 });
    ratioRow(await measure('GET /users/user/ (002)', bearerLoad(`${base}/users/user/`, access)), 'fastify-hello', 0.3, { p99Below: 20 });
    ratioRow(await measure('GET /api/profile_settings (003)', bearerLoad(`${base}/api/profile_settings`, access)), 'fastify-hello', 0.3, { p99Below: 20 });
    const forged = access[0].replace(/.(.)$/, (_, last: string) => `${last === 'A' ? 'B' : 'A'}${last}`).slice(0, access[0].length);
    ratioRow(await measure('GET /v1/me with a bad signature (401)', { ...bearerLoad(`${base}/v1/me`, [forged]), expectStatus: 401 }), 'fastify-hello');
    ratioRow(await measure('GET /.well-known/jwks.json', { url: `${base}/.well-known/jwks.json`, connections: 50 }), 'nest-hello');

    for (const connections of QUICK ? [50] : [16, 50]) {
      // The ceiling is measured before and after the app's two refresh scenarios, and each ratio is
      // taken against the mean: the database grows and gets vacuumed under this write load, and
      // measured once, the ceiling would get the fresh database and the scenario right after it the
      // aftermath of its writes (seen as a steady gap between the first and the second surface).
      const ceilingSessions = await newSessions(db, owner.id, connections);
      const ceilingLoad: Load<string> = {
        url: `${ceilings['refresh-tx'].url}/`,
        method: 'POST',
        connections,
        items: ceilingSessions.map((session) => session.id),
        request: (id: string) => ({ headers: { 'x-session': id } }),
      };
      const before = await measure(`ceiling: refresh transaction + ES256 sign (${connections}), before`, ceilingLoad);
      const measured: Measured[] = [];
      for (const [surface, path, field, answerField] of [
        ['/v1', '/v1/auth/refresh', 'refreshToken', 'refreshToken'],
        ['002', '/users/auth/token/refresh/', 'refresh', 'refresh'],
      ] as const) {
        const sessions = await newSessions(db, owner.id, connections);
        const current = new Map(sessions.map((session) => [session.id, session.refreshToken]));
        measured.push(
          await measure(`POST ${path} (${surface}, ${connections} distinct sessions)`, {
            url: `${base}${path}`,
            method: 'POST',
            connections,
            items: sessions.map((session) => session.id),
            request: (id) => ({ body: JSON.stringify({ [field]: current.get(id) }), headers: { 'content-type': 'application/json' } }),
            answer: (id, status, body) => {
              if (status === 200) current.set(id, JSON.parse(body)[answerField]);
            },
          }),
        );
      }
      const after = await measure(`ceiling: refresh transaction + ES256 sign (${connections}), after`, ceilingLoad);
      results.ceilings[`refresh-tx-${connections}`] = {
        ...before,
        name: `ceiling: refresh transaction + ES256 sign (${connections}; mean of before ${Math.round(before.rps)} and after ${Math.round(after.rps)})`,
        rps: (before.rps + after.rps) / 2,
        p50: Math.max(before.p50, after.p50),
        p99: Math.max(before.p99, after.p99),
      };
      for (const row of measured) ratioRow(row, `refresh-tx-${connections}`, 0.8);
    }

    await Promise.all(Object.values(ceilings).map(({ process: p }) => stop(p)));
    const argon = await argon2Ceiling(QUICK ? 1.5 : SECONDS);
    results.ceilings.argon2 = { name: `ceiling: argon2id verifies (raw, ${THREADS} threads, ${ARGON2_CONCURRENCY} in flight)`, rps: argon.perSecond };
    console.log(`${results.ceilings.argon2.name.padEnd(58)} ${argon.perSecond.toFixed(1).padStart(7)} verifies/s`);
    const signInUsers = benchUsers.slice(1, 1 + ARGON2_CONCURRENCY);
    ratioRow(
      await measure(
        'POST /v1/auth/login',
        signInLoad(`${base}/v1/auth/login`, signInUsers, (u) => ({ login: u.email, password: PASSWORD })),
      ),
      'argon2',
      0.9,
    );
    ratioRow(
      await measure(
        'POST /users/auth/token/ (002)',
        signInLoad(`${base}/users/auth/token/`, signInUsers, (u) => ({ email: u.email, password: PASSWORD })),
      ),
      'argon2',
      0.9,
    );
    const tag = Date.now().toString(36);
    let registered = 0;
    ratioRow(
      await measure(
        'POST /v1/auth/register (one e-mail queued)',
        signInLoad(`${base}/v1/auth/register`, signInUsers, () => ({ email: `r${tag}v${registered++}@bench.example`, password: PASSWORD })),
      ),
      'argon2',
      0.9,
    );
    ratioRow(
      await measure(
        'POST /users/auth/registration/ (002)',
        signInLoad(`${base}/users/auth/registration/`, signInUsers, () => ({ email: `r${tag}d${registered++}@bench.example`, password: PASSWORD })),
      ),
      'argon2',
      0.9,
    );

    // Memory after the benchmark (the app process, from /proc): at once, and after 15 s idle, which
    // gives V8's memory reducer (it runs when allocation stops) time to give the heap back.
    const rssAtEnd = memoryOf(server.pid!);
    await new Promise((r) => setTimeout(r, QUICK ? 2000 : 15_000));
    results.memory = { idle: rssIdle, atEnd: rssAtEnd, afterBenchmark: memoryOf(server.pid!), idleSeconds: QUICK ? 2 : 15 };
    appPid = undefined;

    // At scale: the same reads and sign-ins with SCALE_USERS more users in the table.
    if (SCALE_USERS > 0) {
      // The small-table figures again, right before seeding, so drift does not pass for scale.
      const meSmall = await measure('GET /v1/me (before seeding)', bearerLoad(`${base}/v1/me`, access));
      const signInSmall = await measure(
        'POST /v1/auth/login (before seeding)',
        signInLoad(`${base}/v1/auth/login`, signInUsers, (u) => ({ login: u.email, password: PASSWORD })),
      );
      console.log(`\nseeding ${SCALE_USERS.toLocaleString('en')} users (one statement)`);
      const seedStarted = performance.now();
      const big = await seedUsers(db, 'scale', SCALE_USERS, hash, ARGON2_CONCURRENCY);
      // Steady state: vacuumed and analysed (else autovacuum works through the new rows during the
      // measurement, on the same cores), and the WAL checkpointed.
      await db.query('VACUUM (ANALYZE) users, credentials, sessions, refresh_tokens');
      await db.query('CHECKPOINT');
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      const bigAccess = await accessTokens(db, base, big[0].id, 50);
      const meBig = await measure(`GET /v1/me (${SCALE_USERS.toLocaleString('en')} users)`, bearerLoad(`${base}/v1/me`, bigAccess));
      const signInBig = await measure(
        `POST /v1/auth/login (${SCALE_USERS.toLocaleString('en')} users)`,
        signInLoad(`${base}/v1/auth/login`, big, (u) => ({ login: u.email, password: PASSWORD })),
      );
      results.scale = {
        users: SCALE_USERS,
        seedSeconds,
        me: { small: meSmall.rps, big: meBig.rps, ratio: meBig.rps / meSmall.rps, meSmall, meBig },
        signIn: { small: signInSmall.rps, big: signInBig.rps, ratio: signInBig.rps / signInSmall.rps, signInSmall, signInBig },
      };
    }

    results.explain = await explainHotQueries(databaseUrl, db, owner, SCALE_USERS > 0);
    if (!QUICK) results.profile = await profileProfileRead(databaseUrl, access);
    results.machine = machine(startedAt, loadAtStart);
  } finally {
    await db.end().catch(() => undefined);
    await Promise.all(children.map(stop));
    await stopDatabase();
  }

  // --quick checks that everything works; its numbers go beside the committed ones, not over them.
  const [jsonFile, markdownFile] = QUICK || ONLY ? ['bench/results.quick.json', 'bench/RESULTS.quick.md'] : ['bench/results.json', 'bench/RESULTS.md'];
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(markdownFile, renderMarkdown());
  const failed = results.scenarios.filter((row) => row.unexpected > 0 || row.status5xx > 0);
  const missed = results.scenarios.filter((row) => row.met === false);
  console.log(
    `\n${jsonFile} and ${markdownFile} written; ${missed.length} target(s) missed${failed.length ? `; ${failed.length} scenario(s) with errors` : ''}`,
  );
  if (failed.length) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------

interface BenchUser {
  id: string;
  email: string;
}

/** `count` users with a password credential, in one statement; returns the first `keep` of them. */
async function seedUsers(db: Client, prefix: string, count: number, hash: string, keep = count): Promise<BenchUser[]> {
  const { rows } = await db.query(
    `WITH created AS (
       INSERT INTO users (email, username, name)
       SELECT $1 || g || '@bench.example', $1 || '_' || g, 'Bench ' || g FROM generate_series(1, $2::int) g
       RETURNING id, email
     ), stored AS (
       INSERT INTO credentials (user_id, type, secret) SELECT id, 'password', $3 FROM created
     )
     SELECT id, email FROM created ORDER BY email LIMIT $4`,
    [prefix, count, hash, keep],
  );
  return rows;
}

/** `count` fresh sessions of `userId` with known refresh tokens, written directly (no argon2 per session). */
async function newSessions(db: Client, userId: string, count: number): Promise<{ id: string; refreshToken: string }[]> {
  const sessions = Array.from({ length: count }, () => ({ id: randomUUID(), refreshToken: randomBytes(32).toString('base64url') }));
  await db.query(`INSERT INTO sessions (id, user_id, last_used_at, expires_at) SELECT unnest($1::uuid[]), $2, now(), now() + interval '1 day'`, [
    sessions.map((s) => s.id),
    userId,
  ]);
  await db.query(`INSERT INTO refresh_tokens (token_hash, session_id, generation) SELECT unnest($1::bytea[]), unnest($2::uuid[]), 0`, [
    sessions.map((s) => createHash('sha256').update(s.refreshToken).digest()),
    sessions.map((s) => s.id),
  ]);
  return sessions;
}

/** Access tokens of `count` distinct sessions (each from one refresh through the app). */
async function accessTokens(db: Client, base: string, userId: string, count: number): Promise<string[]> {
  const sessions = await newSessions(db, userId, count);
  return Promise.all(
    sessions.map(async ({ refreshToken }) => {
      const response = await fetch(`${base}/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken }),
      });
      if (!response.ok) throw new Error(`refresh for an access token failed: ${response.status}`);
      return ((await response.json()) as { accessToken: string }).accessToken;
    }),
  );
}

function bearerLoad(url: string, tokens: string[]): Load<string> {
  return { url, connections: 50, items: tokens, request: (token) => ({ headers: { authorization: `Bearer ${token}` } }) };
}

function signInLoad(url: string, users: BenchUser[], body: (user: BenchUser) => unknown): Load<BenchUser> {
  return {
    url,
    method: 'POST',
    connections: ARGON2_CONCURRENCY,
    items: users,
    request: (user) => ({ body: JSON.stringify(body(user)), headers: { 'content-type': 'application/json' } }),
    seconds: QUICK ? 1 : SECONDS,
    cpu: true,
  };
}

async function argon2Ceiling(seconds: number): Promise<{ perSecond: number }> {
  const process_ = child(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', 'bench/ceilings.ts', 'argon2', '0'],
    {
      ...APP_ENV, // the same allocator settings as the app's
      UV_THREADPOOL_SIZE: String(THREADS),
      BENCH_SECONDS: String(seconds),
      BENCH_CONCURRENCY: String(ARGON2_CONCURRENCY),
    },
    'pipe',
  );
  let output = '';
  process_.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((r) => process_.once('exit', r));
  return JSON.parse(output.trim().split('\n').pop()!);
}

function memoryOf(pid: number): { rssMb: number; peakMb: number; anonMb: number; fileMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  const mb = (value: number) => Math.round(value / 1024);
  return { rssMb: mb(kb('VmRSS')), peakMb: mb(kb('VmHWM')), anonMb: mb(kb('RssAnon')), fileMb: mb(kb('RssFile')) };
}

/** EXPLAIN ANALYZE of the hot statements, with the very texts the app prepares. */
async function explainHotQueries(databaseUrl: string, db: Client, owner: BenchUser, scale: boolean): Promise<Record<string, string>> {
  const dataSource = await new DataSource(dataSourceOptions(databaseUrl)).initialize();
  try {
    const sessions = new SessionsRepository(dataSource) as unknown as { statements: Record<string, { text: string }> };
    const signIn = await signInStatements(dataSource, owner);
    const [session] = await newSessions(db, owner.id, 1);
    const explain = async (text: string, values: unknown[]) =>
      (await db.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`, values)).rows.map((row: Record<string, string>) => row['QUERY PLAN']).join('\n');
    const out: Record<string, string> = {};
    out['token check on a cache miss (auth_live_session_user)'] = await explain(sessions.statements.liveSessionUser.text, [session.id, owner.id]);
    out['sign-in: the user by e-mail (users_by_email)'] = await explain(signIn.byEmail, [owner.email]);
    out['sign-in: the password credential (credentials_password_of)'] = await explain(signIn.passwordOf, [owner.id]);
    await db.query('BEGIN');
    const now = new Date();
    out['refresh, common case (auth_rotate_refresh_token, rolled back)'] = await explain(sessions.statements.rotate.text, [
      createHash('sha256').update(session.refreshToken).digest(),
      randomBytes(32),
      now,
      new Date(now.getTime() + 86_400_000),
      new Date(now.getTime() + 86_400_000),
    ]);
    await db.query('ROLLBACK');
    if (scale) out.note = 'plans with the --users rows in the tables';
    return out;
  } finally {
    await dataSource.destroy();
  }
}

/** The texts of the sign-in statements, as the repositories build them. */
async function signInStatements(dataSource: DataSource, owner: BenchUser): Promise<{ byEmail: string; passwordOf: string }> {
  const users = new UsersRepository(dataSource.getRepository(User));
  await users.findByIdentifier({ kind: 'email', value: owner.email });
  const transactions = { none: dataSource.manager } as never;
  const credentials = new CredentialsRepository(transactions);
  await credentials.findPassword(owner.id);
  return {
    byEmail: (users as unknown as { byIdentifier: Record<string, { text: string }> }).byIdentifier.email.text,
    passwordOf: (credentials as unknown as { passwordOf: { text: string } }).passwordOf.text,
  };
}

/**
 * A CPU profile of GET /v1/me: a second instance of the app (same dist/) with the V8 profiler
 * started over IPC only for the load, so start-up is not in it.
 */
async function profileProfileRead(databaseUrl: string, tokens: string[]): Promise<ProfileSummary> {
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'identity-profile-')), 'me.cpuprofile');
  const script = `
    const inspector = require('node:inspector');
    const session = new inspector.Session();
    session.connect();
    const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
    process.on('message', async (message) => {
      if (message === 'start') {
        global.memoryBeforeProfile = process.memoryUsage();
        await post('Profiler.enable');
        await post('Profiler.setSamplingInterval', { interval: 200 });
        await post('Profiler.start');
        process.send({ started: true });
      } else if (message === 'stop') {
        const { profile } = await post('Profiler.stop');
        require('node:fs').writeFileSync(${JSON.stringify(file)}, JSON.stringify(profile));
        const modules = Object.keys(require.cache).length;
        process.send({ stopped: true, memory: global.memoryBeforeProfile, modules });
      }
    });
    require('./dist/main.js');
  `;
  const server = child(
    process.execPath,
    [...APP_NODE_FLAGS, '-e', script],
    { ...APP_ENV, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1' },
    'ignore',
    true,
  );
  const base = `http://127.0.0.1:${port}`;
  await waitFor(`${base}/health/ready`, server, 'the profiled app');
  const reply = (what: string) => new Promise<any>((resolve) => server.on('message', (message: Record<string, unknown>) => message[what] && resolve(message)));
  await measure('(warm-up of the profiled instance)', bearerLoad(`${base}/v1/me`, tokens), false);
  const started = reply('started');
  server.send('start');
  await started;
  const profiled = await measure('GET /v1/me under the CPU profiler', bearerLoad(`${base}/v1/me`, tokens), false);
  const stopped = reply('stopped');
  server.send('stop');
  const { memory, modules } = await stopped;
  await stop(server);
  return { ...summarizeProfile(JSON.parse(readFileSync(file, 'utf8'))), rpsUnderProfiler: profiled.rps, loadedModules: modules, memoryUsage: memory };
}

function machine(startedAt: Date, loadAtStart: number[]) {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model,
    cores: cpu.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    threadPool: THREADS,
    startedAt: startedAt.toISOString(),
    seconds: SECONDS,
    quick: QUICK,
    loadAverage: { atStart: loadAtStart.map((l) => Number(l.toFixed(2))), atEnd: loadavg().map((l) => Number(l.toFixed(2))) },
  };
}

interface CpuTimes {
  at: number;
  /** Seconds of CPU per thread of the app (tid → s); the main thread's tid is the pid. */
  appThreads: Map<number, number>;
  /** CPU seconds per process of the embedded PostgreSQL (pid → s). */
  postgres: Map<number, number>;
  loadGenerator: number;
  /** Busy seconds of the whole machine (every process, ours or not). */
  machine: number;
}

export interface CpuSplit {
  appMainThread: number;
  /** The two busiest other threads of the app: under argon2id load, its thread pool. */
  appPoolThreads: number[];
  appOtherThreads: number;
  postgres: number;
  loadGenerator: number;
  /** Everything else on the machine (other processes). */
  other: number;
  machineBusy: number;
  cores: number;
}

const TICK = 100; // USER_HZ

function statTimes(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK;
}

/** The server processes of the embedded cluster (the postmaster and its children): CPU seconds by pid. */
function postgresSeconds(): Map<number, number> {
  const seconds = new Map<number, number>();
  if (!clusterDir) return seconds;
  const postmaster = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (Number(entry) === postmaster || parent === postmaster) seconds.set(Number(entry), statTimes(`/proc/${entry}/stat`));
    } catch {
      // gone meanwhile
    }
  }
  return seconds;
}

function cpuTimes(): CpuTimes {
  const appThreads = new Map<number, number>();
  if (appPid) {
    for (const tid of readdirSync(`/proc/${appPid}/task`)) {
      try {
        appThreads.set(Number(tid), statTimes(`/proc/${appPid}/task/${tid}/stat`));
      } catch {
        // thread gone
      }
    }
  }
  const self = process.cpuUsage();
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = ticks[3] + ticks[4];
  const machine = (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / TICK;
  return { at: performance.now(), appThreads, postgres: postgresSeconds(), loadGenerator: (self.user + self.system) / 1e6, machine };
}

function cpuSplit(before: CpuTimes, after: CpuTimes, seconds: number): CpuSplit {
  const per = (value: number) => Number((value / seconds).toFixed(2));
  const threads = [...after.appThreads.entries()].map(([tid, value]) => ({ tid, cores: value - (before.appThreads.get(tid) ?? 0) }));
  const main = threads.find((thread) => thread.tid === appPid)?.cores ?? 0;
  const others = threads.filter((thread) => thread.tid !== appPid).sort((a, b) => b.cores - a.cores);
  const pool = others.slice(0, THREADS).map((thread) => thread.cores);
  const rest = others.slice(THREADS).reduce((sum, thread) => sum + thread.cores, 0);
  const app = main + pool.reduce((a, b) => a + b, 0) + rest;
  // Per process, so a backend that ends during the load (its time is gone) never counts negative.
  const postgres = [...after.postgres.entries()].reduce((sum, [pid, value]) => sum + value - (before.postgres.get(pid) ?? 0), 0);
  const load = after.loadGenerator - before.loadGenerator;
  const machine = after.machine - before.machine;
  return {
    appMainThread: per(main),
    appPoolThreads: pool.map(per),
    appOtherThreads: per(rest),
    postgres: per(postgres),
    loadGenerator: per(load),
    other: per(Math.max(0, machine - app - postgres - load)),
    machineBusy: per(machine),
    cores: cpus().length,
  };
}

function renderMarkdown(): string {
  const m = results.machine as ReturnType<typeof machine>;
  const n = (value: number | undefined, digits = 0) =>
    value === undefined ? '' : value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  lines.push(
    `Written by \`npm run bench${m.quick ? ' -- --quick' : ''}${SCALE_USERS ? ` -- --users ${SCALE_USERS}` : ''}\` (bench/run.ts) on ${m.startedAt.slice(0, 10)}. ` +
      `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB; Node ${m.node}; UV_THREADPOOL_SIZE ${m.threadPool}; ` +
      `${m.seconds} s per measurement after a warm-up; load average ${m.loadAverage.atStart.join(' / ')} at the start, ${m.loadAverage.atEnd.join(' / ')} at the end ` +
      '(the app, PostgreSQL, each ceiling and the load generator share these cores). Targets are ratios to ceilings measured in the same run. ' +
      'Raw numbers: [results.json](results.json). How the caches stay correct: README, *Performance*.',
    '',
  );
  lines.push('## Ceilings', '', '| ceiling | requests/s | p50 ms | p99 ms |', '|---|--:|--:|--:|');
  for (const ceiling of Object.values(results.ceilings)) {
    const c = ceiling as Measured;
    if (Number.isNaN(c.rps)) continue; // left out by --only
    lines.push(`| ${c.name.replace(/^ceiling: |^reference: /, '')} | ${n(c.rps)} | ${c.p50 ?? ''} | ${c.p99 ?? ''} |`);
  }
  lines.push(
    '',
    '## Scenarios',
    '',
    '| scenario | conns | requests/s | p50 ms | p99 ms | non-2xx | 5xx | errors | ratio | of | target | met | app RSS after, MB |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|--:|',
  );
  for (const row of results.scenarios) {
    lines.push(
      `| ${row.name} | ${row.connections} | ${n(row.rps)} | ${row.p50} | ${row.p99} | ${row.non2xx} | ${row.status5xx} | ${row.errors} | ${row.ratio === undefined ? '' : n(row.ratio, 2)} | ${row.ceiling?.replace(/^ceiling: /, '') ?? ''} | ${row.target ?? ''} | ${row.met === undefined ? '' : row.met ? 'yes' : '**no**'} | ${row.appRssMb ?? ''} |`,
    );
  }
  const withCpu = results.scenarios.filter((row) => row.cpu);
  if (withCpu.length) {
    lines.push('', '## Where the CPU went during sign-in and registration', '');
    lines.push(
      `Cores used during each argon2id-bound scenario (of ${withCpu[0].cpu!.cores}). The raw ceiling has the machine to itself; here the pool ` +
        "threads share it with the app's main thread, PostgreSQL, the load generator and anything else running.",
      '',
    );
    lines.push(
      '| scenario | pool threads | main thread | other app threads | PostgreSQL | load generator | other processes | machine busy |',
      '|---|--:|--:|--:|--:|--:|--:|--:|',
    );
    for (const row of withCpu) {
      const c = row.cpu!;
      lines.push(
        `| ${row.name} | ${c.appPoolThreads.join(' + ')} | ${c.appMainThread} | ${c.appOtherThreads} | ${c.postgres} | ${c.loadGenerator} | ${c.other} | ${c.machineBusy} |`,
      );
    }
  }
  const missed = results.scenarios.filter((row) => row.met === false);
  if (missed.length) {
    lines.push('', '## Targets not met', '');
    for (const row of missed) {
      const reason = row.cpu
        ? `argon2id's threads got ${row.cpu.appPoolThreads.reduce((a, b) => a + b, 0).toFixed(2)} of ${row.cpu.cores} cores (the raw ceiling gets all of them): ` +
          `the main thread took ${row.cpu.appMainThread}, PostgreSQL ${row.cpu.postgres}, the load generator ${row.cpu.loadGenerator}, other processes ${row.cpu.other}. ` +
          perRequestBound(row) +
          ' What would move it: the pool on cores it does not share (PostgreSQL and the clients elsewhere, as in production), or less work outside argon2id per request ' +
          (/register|registration/.test(row.name)
            ? "(a registration is the account in one transaction and, on /v1, its verification e-mail in another, then that e-mail's delivery)."
            : '(a password sign-in is five statements, three of them reads that one statement could do).')
        : row.p99 >= 20 && row.target?.includes('p99')
          ? `p99 ${row.p99} ms.`
          : `${n(row.ratio, 2)} of the ceiling; the CPU profile below shows where a request's time goes (the HTTP write and Nest's pipeline dominate).`;
      lines.push(`- **${row.name}** (${n(row.ratio, 2)} × ${row.ceiling?.replace(/^ceiling: /, '')}, target ${row.target}): ${reason}`);
    }
  }
  const memory = results.memory as {
    idle: ReturnType<typeof memoryOf>;
    atEnd: ReturnType<typeof memoryOf>;
    afterBenchmark: ReturnType<typeof memoryOf>;
    idleSeconds: number;
  };
  const profile = results.profile;
  lines.push('', '## Memory', '');
  lines.push(
    `The app's RSS: ${memory.idle.rssMb} MB idle after start-up; ${memory.atEnd.rssMb} MB as the last load ends; **${memory.afterBenchmark.rssMb} MB after the benchmark** ` +
      `(${memory.idleSeconds} s idle; target < 200 MB; peak during the run ${memory.afterBenchmark.peakMb} MB; ` +
      `anonymous ${memory.afterBenchmark.anonMb} MB, file-backed ${memory.afterBenchmark.fileMb} MB).` +
      (profile
        ? ` A second instance, warmed up, before its profiled load: ${profile.loadedModules} modules loaded, V8 heap ${Math.round(profile.memoryUsage.heapUsed / 2 ** 20)} MB used of ` +
          `${Math.round(profile.memoryUsage.heapTotal / 2 ** 20)} MB, external ${Math.round(profile.memoryUsage.external / 2 ** 20)} MB, RSS ${Math.round(profile.memoryUsage.rss / 2 ** 20)} MB.`
        : ''),
    '',
  );
  if (profile) {
    lines.push('## CPU profile of the profile read (GET /v1/me, cache hits)', '');
    lines.push(
      `${n(profile.rpsUnderProfiler)} requests/s under the profiler (${profile.totalMs.toFixed(0)} ms of samples, ${(profile.idleShare * 100).toFixed(0)} % idle). Share of busy main-thread time:`,
      '',
    );
    lines.push('| where | share |', '|---|--:|');
    for (const group of profile.groups.filter((g) => g.share >= 0.001)) lines.push(`| ${group.name} | ${(group.share * 100).toFixed(1)} % |`);
    lines.push('', 'Heaviest functions (self time):', '', '| function | where | share |', '|---|---|--:|');
    for (const fn of profile.functions) lines.push(`| \`${fn.name}\` | ${fn.where} | ${(fn.share * 100).toFixed(1)} % |`);
  } else {
    lines.push('(No CPU profile with --quick.)');
  }
  if (results.scale) {
    const scale = results.scale as {
      users: number;
      seedSeconds: number;
      me: { small: number; big: number; ratio: number };
      signIn: { small: number; big: number; ratio: number };
    };
    lines.push('', `## Scale: ${n(scale.users)} more users`, '');
    lines.push(`Seeded with one INSERT … SELECT (users and their password credentials) in ${scale.seedSeconds.toFixed(0)} s. Target: within 10 %.`, '');
    lines.push('| scenario | small table | with the users | ratio |', '|---|--:|--:|--:|');
    lines.push(`| GET /v1/me | ${n(scale.me.small)} | ${n(scale.me.big)} | ${n(scale.me.ratio, 2)} |`);
    lines.push(`| POST /v1/auth/login | ${n(scale.signIn.small)} | ${n(scale.signIn.big)} | ${n(scale.signIn.ratio, 2)} |`);
  }
  lines.push('', '## EXPLAIN ANALYZE of the hot statements', '');
  for (const [name, plan] of Object.entries(results.explain ?? {})) {
    if (name === 'note') continue;
    lines.push(`${name}:`, '', '```', plan, '```', '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

main().catch(async (error: unknown) => {
  console.error(error);
  await Promise.all(children.map(stop));
  process.exit(1);
});
