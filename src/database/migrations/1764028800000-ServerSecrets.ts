import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Server-side secrets generated once on first start and shared by every instance (like the signing
 * key): today the key under which refresh tokens are derived (SPEC §5).
 */
export class ServerSecrets1764028800000 implements MigrationInterface {
  name = 'ServerSecrets1764028800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "server_secrets" (
        "name" varchar(64) NOT NULL,
        "secret" bytea NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_server_secrets" PRIMARY KEY ("name")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "server_secrets"`);
  }
}
