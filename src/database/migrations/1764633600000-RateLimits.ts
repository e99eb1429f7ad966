import { MigrationInterface, QueryRunner } from 'typeorm';

/** Fixed-window counters of the per-client, per-account and global budgets (SPEC §9 rule 5), shared by every instance. */
export class RateLimits1764633600000 implements MigrationInterface {
  name = 'RateLimits1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "rate_limits" (
        "budget" varchar(32) NOT NULL,
        "key" varchar(128) NOT NULL,
        "hits" integer NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "PK_rate_limits" PRIMARY KEY ("budget", "key")
      )`);
    await q.query(`CREATE INDEX "IDX_rate_limits_expires_at" ON "rate_limits" ("expires_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rate_limits"`);
  }
}
