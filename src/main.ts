import 'reflect-metadata';
import { resolve } from 'node:path';
import { createApp } from './app.setup';
import { ConfigError, loadConfig } from './config/app-config';
import { EmbeddedDatabase, startEmbeddedPostgres } from './database/embedded-postgres';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  let embedded: EmbeddedDatabase | undefined;
  if (!config.databaseUrl) {
    const dir = resolve(process.cwd(), '.data', 'postgres');
    console.log(`DATABASE_URL is not set: using the embedded PostgreSQL in ${dir}`);
    embedded = await startEmbeddedPostgres({ dir });
    config.databaseUrl = embedded.url;
  }
  const app = await createApp(config);
  // The embedded server stops after Nest has closed its connections (SIGTERM / Ctrl-C).
  if (embedded) app.getHttpAdapter().getInstance().addHook('onClose', async () => embedded.stop());
  await app.listen(config.port, config.host);
  console.log(`Identity service listening on http://${config.host}:${config.port} (API docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
