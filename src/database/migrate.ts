import { DataSource } from 'typeorm';

// Any constant shared by all instances: concurrent start-ups queue here instead of racing the DDL.
export const MIGRATION_LOCK_KEY = 7_462_315_001;

/** Applies pending migrations while holding a cluster-wide advisory lock. */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
