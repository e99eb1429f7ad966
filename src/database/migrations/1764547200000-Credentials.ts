import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credentials move out of `users` into their own table (one row per way of proving who one is),
 * with the lockout counters of the password; no data is lost either way. Verification secrets
 * gain the purposes of the two-step e-mail change and its "this wasn't me" link.
 */
export class Credentials1764547200000 implements MigrationInterface {
  name = 'Credentials1764547200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "credentials" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "type" varchar(64) NOT NULL,
        "secret" text,
        "subject" varchar(512),
        "name" varchar(100),
        "failed_count" integer NOT NULL DEFAULT 0,
        "locked_until" timestamptz,
        "last_used_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_credentials" PRIMARY KEY ("id"),
        CONSTRAINT "FK_credentials_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "IDX_credentials_user" ON "credentials" ("user_id")`);
    await q.query(`CREATE UNIQUE INDEX "UQ_credentials_password" ON "credentials" ("user_id") WHERE "type" = 'password'`);
    await q.query(`CREATE UNIQUE INDEX "UQ_credentials_subject" ON "credentials" ("type", "subject") WHERE "subject" IS NOT NULL`);
    await q.query(`
      INSERT INTO "credentials" ("user_id", "type", "secret", "failed_count", "locked_until", "created_at", "updated_at")
      SELECT "id", 'password', "password_hash", "failed_login_count", "locked_until", "created_at", "updated_at" FROM "users"
      WHERE "password_hash" IS NOT NULL OR "failed_login_count" > 0 OR "locked_until" IS NOT NULL`);
    await q.query(`ALTER TABLE "users" DROP COLUMN "password_hash", DROP COLUMN "failed_login_count", DROP COLUMN "locked_until"`);

    await q.query(`ALTER TABLE "verification_secrets" DROP CONSTRAINT "CHK_verification_secrets_purpose"`);
    await q.query(`ALTER TABLE "verification_secrets" ADD CONSTRAINT "CHK_verification_secrets_purpose"
      CHECK ("purpose" IN ('email-verify', 'phone-verify', 'password-reset', 'password-change', 'email-change', 'email-change-revert'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "verification_secrets" WHERE "purpose" IN ('email-change', 'email-change-revert')`);
    await q.query(`ALTER TABLE "verification_secrets" DROP CONSTRAINT "CHK_verification_secrets_purpose"`);
    await q.query(`ALTER TABLE "verification_secrets" ADD CONSTRAINT "CHK_verification_secrets_purpose"
      CHECK ("purpose" IN ('email-verify', 'phone-verify', 'password-reset', 'password-change'))`);

    await q.query(`ALTER TABLE "users" ADD "password_hash" varchar(255), ADD "failed_login_count" integer NOT NULL DEFAULT 0, ADD "locked_until" timestamptz`);
    await q.query(`
      UPDATE "users" u SET "password_hash" = c."secret", "failed_login_count" = c."failed_count", "locked_until" = c."locked_until"
      FROM "credentials" c WHERE c."user_id" = u."id" AND c."type" = 'password'`);
    await q.query(`DROP TABLE "credentials"`);
  }
}
