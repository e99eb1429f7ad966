// Runs a command with DATABASE_URL set: the given one, or the embedded PostgreSQL under .data/ (SPEC §2).
// Used by the migration scripts: `npm run migration:generate -- src/database/migrations/AddThing`.
import { spawnSync } from 'node:child_process';
import { openDatabase } from '../src/database/embedded-postgres';

async function main(): Promise<number> {
  const [command, ...args] = process.argv.slice(2);
  const database = await openDatabase(process.env.DATABASE_URL);
  try {
    const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DATABASE_URL: database.url } });
    return result.status ?? 1;
  } finally {
    await database.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
