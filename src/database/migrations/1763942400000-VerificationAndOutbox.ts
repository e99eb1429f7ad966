import { MigrationInterface, QueryRunner } from 'typeorm';

/** One-time secrets (codes and link tokens, hashed), resend cooldowns, and the durable outbox (SPEC §6). */
export class VerificationAndOutbox1763942400000 implements MigrationInterface {
  name = 'VerificationAndOutbox1763942400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "verification_secrets" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "purpose" varchar(32) NOT NULL,
        "kind" varchar(8) NOT NULL,
        "target" varchar(254) NOT NULL,
        "secret_hash" bytea NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "expires_at" timestamptz NOT NULL,
        "consumed_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_verification_secrets" PRIMARY KEY ("id"),
        CONSTRAINT "FK_verification_secrets_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_verification_secrets_purpose" CHECK ("purpose" IN ('email-verify', 'phone-verify', 'password-reset', 'password-change')),
        CONSTRAINT "CHK_verification_secrets_kind" CHECK ("kind" IN ('code', 'link'))
      )`);
    // Codes are found by (user, purpose) among the live ones; links by the hash of their token.
    await q.query(`CREATE INDEX "IDX_verification_secrets_live" ON "verification_secrets" ("user_id", "purpose") WHERE "consumed_at" IS NULL`);
    await q.query(`CREATE UNIQUE INDEX "UQ_verification_secrets_link" ON "verification_secrets" ("secret_hash") WHERE "kind" = 'link'`);

    await q.query(`
      CREATE TABLE "send_cooldowns" (
        "purpose" varchar(32) NOT NULL,
        "target" varchar(254) NOT NULL,
        "last_sent_at" timestamptz NOT NULL,
        CONSTRAINT "PK_send_cooldowns" PRIMARY KEY ("purpose", "target")
      )`);

    await q.query(`
      CREATE TABLE "outbox_messages" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid,
        "channel" varchar(8) NOT NULL,
        "recipient" varchar(254) NOT NULL,
        "template" varchar(64) NOT NULL,
        "subject" varchar(255),
        "text_body" text NOT NULL,
        "html_body" text,
        "status" varchar(8) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz NOT NULL DEFAULT now(),
        "last_error" varchar(1000),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "sent_at" timestamptz,
        CONSTRAINT "PK_outbox_messages" PRIMARY KEY ("id"),
        CONSTRAINT "FK_outbox_messages_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_outbox_messages_channel" CHECK ("channel" IN ('email', 'sms')),
        CONSTRAINT "CHK_outbox_messages_status" CHECK ("status" IN ('pending', 'sent', 'failed'))
      )`);
    await q.query(`CREATE INDEX "IDX_outbox_messages_due" ON "outbox_messages" ("next_attempt_at") WHERE "status" = 'pending'`);
    await q.query(`CREATE INDEX "IDX_outbox_messages_user" ON "outbox_messages" ("user_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "outbox_messages"`);
    await q.query(`DROP TABLE "send_cooldowns"`);
    await q.query(`DROP TABLE "verification_secrets"`);
  }
}
