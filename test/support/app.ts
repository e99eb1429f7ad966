import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { createApp } from '../../src/app.setup';
import { Env, loadConfig } from '../../src/config/app-config';
import { HttpClient } from './http';

export interface TestApp {
  app: NestFastifyApplication;
  http: HttpClient;
  /** Every JSON log line the app wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The raw log text, for "this secret never appears" checks. */
  logText(): string;
  db: DataSource;
  close(): Promise<void>;
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
  const config = loadConfig({ ...TEST_ENV, ...env, DATABASE_URL: process.env.TEST_DATABASE_URL });
  const app = await createApp(config, { logStream });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    http: new HttpClient(`http://127.0.0.1:${address.port}`),
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join('\n'),
    db: app.get(DataSource),
    close: () => app.close(),
  };
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
