import { EmbeddedDatabase } from '../../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __testDatabase?: EmbeddedDatabase }).__testDatabase?.stop();
}
