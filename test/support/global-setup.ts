import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';
import { buildApp } from './build';

/**
 * One throwaway PostgreSQL for the whole run (or DATABASE_URL when set), migrated once here so the
 * test files that boot apps in parallel start on a ready schema. Tests create their own users.
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const folder = mkdtempSync(join(tmpdir(), 'identity-test-'));
    chmodSync(folder, 0o755); // the server may run as the `postgres` user
    const database = await startEmbeddedPostgres({ dir: join(folder, 'pg'), throwaway: true });
    (globalThis as { __testDatabase?: unknown }).__testDatabase = database;
    url = database.url;
  }
  process.env.TEST_DATABASE_URL = url;
  // For the tests that run the app as a process of its own (test/faults).
  process.env.TEST_APP_BUILD = buildApp();
  const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
