// Writes the OpenAPI document the app serves at /docs-json, sorted and stable, without listening:
// `npm run openapi` (→ openapi/openapi.json, committed; a test fails when it differs from the routes).
import { writeFileSync } from 'node:fs';
import { serializeOpenApi, OPENAPI_ARTIFACT } from '../src/api/openapi-artifact';
import { buildOpenApiDocument, createApp } from '../src/app.setup';
import { loadConfig } from '../src/config/app-config';
import { openDatabase } from '../src/database/embedded-postgres';

async function main(): Promise<void> {
  // The defaults, whatever this shell has set: the document must not depend on who wrote it.
  const config = loadConfig({ LOG_LEVEL: 'warn', DATABASE_URL: process.env.DATABASE_URL });
  const database = await openDatabase(config.databaseUrl);
  config.databaseUrl = database.url;
  const app = await createApp(config);
  try {
    await app.init();
    writeFileSync(process.argv[2] ?? OPENAPI_ARTIFACT, serializeOpenApi(buildOpenApiDocument(app)));
  } finally {
    await app.close();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
