import { createHash, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Writable } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.setup';
import { Env, loadConfig } from '../../src/config/app-config';
import { ChangeListener } from '../../src/database/change-listener';
import { HttpClient } from './http';

export interface TestApp {
  app: NestFastifyApplication;
  http: HttpClient;
  /** Every JSON log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, for "this secret never appears" checks. */
  logText(): string;
  /**
   * The app's database. A statement that is not a SELECT is followed by `settleAll()`: an
   * operator's SQL reaches every instance's caches through PostgreSQL's notifications within
   * milliseconds, and tests wait for that instead of sleeping (test/auth-cache.e2e-spec.ts tests
   * the notifications themselves, without this).
   */
  db: DataSource;
  /** Resolves once this app's caches have heard of every change committed so far. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Apps of this test file that are running: raw SQL settles all of them. */
const running = new Set<NestFastifyApplication>();

/** Waits until every running app's caches have heard of every change committed so far. */
export async function settleAll(): Promise<void> {
  await Promise.all([...running].map((app) => app.get(ChangeListener).settle()));
}

/** `dataSource`, except that `query` settles every running app after a statement that may write. */
function settlingDataSource(dataSource: DataSource): DataSource {
  return new Proxy(dataSource, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== 'query') return typeof value === 'function' ? value.bind(target) : value;
      return async (sql: string, ...rest: unknown[]) => {
        const result = await target.query(sql, ...(rest as [unknown[]]));
        if (!/^\s*SELECT\b/i.test(sql)) await settleAll();
        return result;
      };
    },
  });
}

/** Defaults for tests: quiet logs captured in memory, loopback exempt from per-IP limits. */
const TEST_ENV: Env = {
  LOG_LEVEL: 'info',
  RATE_LIMIT_ALLOWLIST: '127.0.0.1,::1',
};

/** Boots the real app on the test database and listens on a free loopback port. */
export async function startApp(env: Env = {}): Promise<TestApp> {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const config = loadConfig({ ...TEST_ENV, ...env, DATABASE_URL: await testDatabaseUrl() });
  const app = await createApp(config, { logStream });
  await app.listen(0, '127.0.0.1');
  running.add(app);
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    http: new HttpClient(`http://127.0.0.1:${address.port}`),
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    db: settlingDataSource(app.get(DataSource)),
    settle: () => app.get(ChangeListener).settle(),
    close: () => {
      running.delete(app);
      return app.close();
    },
  };
}

const fileDatabases = new Map<string, Promise<string>>();

/**
 * This test file's own database, cloned from the migrated template that global-setup prepared
 * (TEST_DATABASE_URL). Each file's apps run an outbox dispatcher, so files must not share a
 * database: one file's app would deliver another file's mail. Apps started in one file share it.
 * With an external DATABASE_URL the role needs CREATEDB.
 */
export function testDatabaseUrl(): Promise<string> {
  const testPath = expect.getState().testPath ?? 'no-test-file';
  let url = fileDatabases.get(testPath);
  if (!url) {
    url = createFileDatabase(`test_${createHash('sha1').update(testPath).digest('hex').slice(0, 12)}`);
    fileDatabases.set(testPath, url);
  }
  return url;
}

/** A database with no schema at all (not a copy of the migrated template): for tests of the migrations themselves. */
export interface EmptyDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createEmptyDatabase(prefix: string): Promise<EmptyDatabase> {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const template = new URL(process.env.TEST_DATABASE_URL!);
  const maintenance = new URL(template);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  const url = new URL(template);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: async () => {
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function createFileDatabase(name: string): Promise<string> {
  const template = new URL(process.env.TEST_DATABASE_URL!);
  const templateName = decodeURIComponent(template.pathname.slice(1));
  const maintenance = new URL(template);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    // Left over from an earlier run against an external server: its schema may be stale.
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE "${name}" TEMPLATE "${templateName}"`);
        break;
      } catch (error) {
        const code = (error as { code?: string }).code;
        // Another file is copying the template at this moment.
        if (code !== '55006' || attempt >= 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await client.end();
  }
  const url = new URL(template);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A value no other test uses: tests never depend on each other's data. */
export function unique(prefix = 'u'): string {
  return `${prefix}${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

/** A password that passes the policy. */
export const GOOD_PASSWORD = 'Plenty-long passphrase 42';

/** A valid Russian mobile number that no other test uses (+7 9XX XXX XX XX). */
export function uniquePhone(): string {
  return `+79${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
}
