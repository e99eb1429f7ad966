// Writes the OpenAPI document the running app serves at /docs-json to a file, without listening:
// `node -r ts-node/register/transpile-only scripts/write-openapi.ts openapi.json` (used by `npm run lint:openapi`).
import { writeFileSync } from 'node:fs';
import { buildOpenApiDocument, createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/app-config';
import { openDatabase } from '../src/database/embedded-postgres';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const database = await openDatabase(config.databaseUrl);
  config.databaseUrl = database.url;
  const app = await createApp(config);
  try {
    await app.init();
    writeFileSync(process.argv[2] ?? 'openapi.json', JSON.stringify(buildOpenApiDocument(app), null, 2) + '\n');
  } finally {
    await app.close();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
