// First: sizes libuv's thread pool (argon2id) before anything starts it.
import './threadpool';
import 'reflect-metadata';
import { createApp } from './app.setup';
import { ConfigError, loadConfig } from './config/app-config';
import { DEFAULT_CLUSTER_DIR, openDatabase } from './database/embedded-postgres';
import { stopOnSignals } from './lifecycle/shutdown';

async function bootstrap(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.databaseUrl) console.log(`DATABASE_URL is not set: using the embedded PostgreSQL in ${DEFAULT_CLUSTER_DIR}`);
  const database = await openDatabase(config.databaseUrl);
  config.databaseUrl = database.url;
  const app = await createApp(config);
  // SIGTERM / Ctrl-C: requests in flight finish, then the app closes, then an embedded server stops.
  stopOnSignals(app, { graceMs: config.operations.shutdownGraceMs, afterClose: () => database.stop() });
  await app.listen(config.port, config.host);
  console.log(`Identity service listening on http://${config.host}:${config.port} (API docs at /docs)`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
