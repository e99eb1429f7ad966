import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Second factors (issue 12). Credentials gain what TOTP and passkeys need: `counter` (a TOTP's last
 * accepted time step, a passkey's signature counter) and `details` (a passkey's transports and
 * authenticator facts). Sessions remember how they signed in (`amr`, `aal`), when a second factor
 * last stepped them up, and the app password that opened them (revoking it ends them). Sign-in and
 * step-up challenges live in `mfa_challenges`, so any instance can answer them.
 */
export class SecondFactors1764720000000 implements MigrationInterface {
  name = 'SecondFactors1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "credentials" ADD "counter" bigint, ADD "details" jsonb`);
    // One authenticator app per account, and at most one enrolment waiting for its first code.
    await q.query(`CREATE UNIQUE INDEX "UQ_credentials_totp" ON "credentials" ("user_id") WHERE "type" = 'totp'`);
    await q.query(`CREATE UNIQUE INDEX "UQ_credentials_totp_pending" ON "credentials" ("user_id") WHERE "type" = 'totp-pending'`);

    await q.query(`
      ALTER TABLE "sessions"
        ADD "credential_id" uuid,
        ADD "amr" varchar(16) array NOT NULL DEFAULT '{pwd}',
        ADD "aal" smallint NOT NULL DEFAULT 1,
        ADD "stepped_up_at" timestamptz,
        ADD CONSTRAINT "FK_sessions_credential" FOREIGN KEY ("credential_id") REFERENCES "credentials"("id") ON DELETE SET NULL,
        ADD CONSTRAINT "CHK_sessions_aal" CHECK ("aal" IN (1, 2))`);
    await q.query(`CREATE INDEX "IDX_sessions_credential" ON "sessions" ("credential_id") WHERE "credential_id" IS NOT NULL`);

    await q.query(`
      CREATE TABLE "mfa_challenges" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "purpose" varchar(32) NOT NULL,
        "user_id" uuid,
        "session_id" uuid,
        "methods" varchar(16) array NOT NULL DEFAULT '{}',
        "webauthn_challenge" varchar(128),
        "remember" boolean NOT NULL DEFAULT false,
        "attempts" integer NOT NULL DEFAULT 0,
        "expires_at" timestamptz NOT NULL,
        "consumed_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_mfa_challenges" PRIMARY KEY ("id"),
        CONSTRAINT "FK_mfa_challenges_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE,
        CONSTRAINT "FK_mfa_challenges_session" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_mfa_challenges_purpose" CHECK ("purpose" IN ('sign-in', 'step-up', 'passkey-sign-in', 'passkey-registration'))
      )`);
    await q.query(`CREATE INDEX "IDX_mfa_challenges_expires_at" ON "mfa_challenges" ("expires_at")`);
    await q.query(`CREATE INDEX "IDX_mfa_challenges_user" ON "mfa_challenges" ("user_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "mfa_challenges"`);
    await q.query(`DROP INDEX "IDX_sessions_credential"`);
    await q.query(`
      ALTER TABLE "sessions" DROP CONSTRAINT "CHK_sessions_aal", DROP CONSTRAINT "FK_sessions_credential",
        DROP COLUMN "stepped_up_at", DROP COLUMN "aal", DROP COLUMN "amr", DROP COLUMN "credential_id"`);
    // Second factors cannot be expressed without these columns: an account falls back to its password.
    await q.query(`DELETE FROM "credentials" WHERE "type" IN ('totp', 'totp-pending', 'webauthn', 'recovery-code', 'app-password')`);
    await q.query(`DROP INDEX "UQ_credentials_totp_pending"`);
    await q.query(`DROP INDEX "UQ_credentials_totp"`);
    await q.query(`ALTER TABLE "credentials" DROP COLUMN "details", DROP COLUMN "counter"`);
  }
}
