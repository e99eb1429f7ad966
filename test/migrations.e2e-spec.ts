import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source';
import { Initial1763856000000 } from '../src/database/migrations/1763856000000-Initial';
import { VerificationAndOutbox1763942400000 } from '../src/database/migrations/1763942400000-VerificationAndOutbox';
import { runMigrations } from '../src/database/migrate';
import { createEmptyDatabase, EmptyDatabase } from './support/app';

/**
 * Migrations on a database that holds data from before them: the move of passwords and lockout
 * counters from `users` to `credentials` loses nothing, and reverting it puts everything back.
 */
describe('the credentials migration', () => {
  let url: string;
  let database: EmptyDatabase;

  beforeAll(async () => {
    database = await createEmptyDatabase('migration');
    url = database.url;
  });

  afterAll(() => database.drop());

  /** The schema as it was before credentials existed. */
  async function atSchemaBeforeCredentials(): Promise<void> {
    const early = new DataSource({ ...dataSourceOptions(url), entities: [], migrations: [Initial1763856000000, VerificationAndOutbox1763942400000] });
    await early.initialize();
    try {
      await early.runMigrations({ transaction: 'each' });
    } finally {
      await early.destroy();
    }
  }

  it('moves every password hash and lockout counter into credentials, and back on revert', async () => {
    await atSchemaBeforeCredentials();
    const db = new Client({ connectionString: url });
    await db.connect();
    try {
      const lockedUntil = new Date(Date.now() + 600_000);
      const [alice, bob, carol] = (
        await db.query(
          `INSERT INTO users (email, password_hash, failed_login_count, locked_until) VALUES
             ('alice@example.com', '$argon2id$v=19$m=19456,t=2,p=1$YWxpY2U$aGFzaA', 0, NULL),
             ('bob@example.com', '$argon2id$v=19$m=19456,t=2,p=1$Ym9i$aGFzaA', 12, $1),
             ('carol@example.com', NULL, 0, NULL)
           RETURNING id`,
          [lockedUntil],
        )
      ).rows.map((row) => row.id as string);

      const current = await new DataSource(dataSourceOptions(url)).initialize();
      try {
        await runMigrations(current);
        const credentials = await current.query(`SELECT user_id, type, secret, failed_count, locked_until FROM credentials ORDER BY secret`);
        expect(credentials).toEqual([
          { user_id: alice, type: 'password', secret: '$argon2id$v=19$m=19456,t=2,p=1$YWxpY2U$aGFzaA', failed_count: 0, locked_until: null },
          { user_id: bob, type: 'password', secret: '$argon2id$v=19$m=19456,t=2,p=1$Ym9i$aGFzaA', failed_count: 12, locked_until: lockedUntil },
        ]);
        const columns = await current.query(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND column_name IN ('password_hash', 'failed_login_count', 'locked_until')`,
        );
        expect(columns).toEqual([]);
        expect((await current.query(`SELECT count(*)::int AS n FROM users`))[0].n).toBe(3);

        // Revert down to before the credentials migration: the columns come back with their values.
        while ((await current.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`))[0].name !== 'VerificationAndOutbox1763942400000') {
          await current.undoLastMigration({ transaction: 'each' });
        }
        const users = await current.query(`SELECT id, password_hash, failed_login_count, locked_until FROM users ORDER BY email`);
        expect(users).toEqual([
          { id: alice, password_hash: '$argon2id$v=19$m=19456,t=2,p=1$YWxpY2U$aGFzaA', failed_login_count: 0, locked_until: null },
          { id: bob, password_hash: '$argon2id$v=19$m=19456,t=2,p=1$Ym9i$aGFzaA', failed_login_count: 12, locked_until: lockedUntil },
          { id: carol, password_hash: null, failed_login_count: 0, locked_until: null },
        ]);
        // And forward again, as a re-deploy would.
        await runMigrations(current);
        expect((await current.query(`SELECT count(*)::int AS n FROM credentials`))[0].n).toBe(2);
      } finally {
        await current.destroy();
      }
    } finally {
      await db.end();
    }
  });
});
