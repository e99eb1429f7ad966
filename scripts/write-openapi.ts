// Writes the OpenAPI document the running app serves at /docs-json to a file, without listening:
// `node -r ts-node/register/transpile-only scripts/write-openapi.ts openapi.json` (used by `npm run lint:openapi`).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument, createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/app-config';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dir: resolve(process.cwd(), '.data', 'postgres') });
  config.databaseUrl ??= embedded!.url;
  const app = await createApp(config);
  try {
    await app.init();
    writeFileSync(process.argv[2] ?? 'openapi.json', JSON.stringify(buildOpenApiDocument(app), null, 2) + '\n');
  } finally {
    await app.close();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
