import { rmSync } from 'node:fs';
import { EmbeddedDatabase } from '../../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __testDatabase?: EmbeddedDatabase }).__testDatabase?.stop();
  if (process.env.TEST_APP_BUILD) rmSync(process.env.TEST_APP_BUILD, { recursive: true, force: true });
}
