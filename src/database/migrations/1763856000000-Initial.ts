import { MigrationInterface, QueryRunner } from 'typeorm';

/** The user store (every SPEC §4 field), sessions with their refresh tokens, and signing keys. */
export class Initial1763856000000 implements MigrationInterface {
  name = 'Initial1763856000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "username" varchar(64),
        "email" varchar(254),
        "phone" varchar(20),
        "password_hash" varchar(255),
        "name" varchar(100),
        "surname" varchar(100),
        "patronymic" varchar(100),
        "full_name" varchar(300),
        "address" varchar(500),
        "contacts" varchar(500),
        "city_id" uuid,
        "user_type" varchar(32) NOT NULL DEFAULT 'ind',
        "role" varchar(32) NOT NULL DEFAULT 'user',
        "status" varchar(16) NOT NULL DEFAULT 'active',
        "auth_client" varchar(32) NOT NULL DEFAULT 'local',
        "auto_updating" boolean NOT NULL DEFAULT false,
        "auto_paying" boolean NOT NULL DEFAULT false,
        "push_token" varchar(512),
        "locale" varchar(8),
        "email_verified_at" timestamptz,
        "phone_verified_at" timestamptz,
        "failed_login_count" integer NOT NULL DEFAULT 0,
        "locked_until" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_users" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_users_identifier" CHECK ("username" IS NOT NULL OR "email" IS NOT NULL OR "phone" IS NOT NULL),
        CONSTRAINT "CHK_users_role" CHECK ("role" IN ('user', 'executor', 'administrator')),
        CONSTRAINT "CHK_users_status" CHECK ("status" IN ('active', 'blocked'))
      )`);
    // Uniqueness lives in the database so concurrent registrations cannot both win.
    await q.query(`CREATE UNIQUE INDEX "UQ_users_username_lower" ON "users" (lower("username"))`);
    await q.query(`CREATE UNIQUE INDEX "UQ_users_email_lower" ON "users" (lower("email"))`);
    await q.query(`CREATE UNIQUE INDEX "UQ_users_phone" ON "users" ("phone")`);
    await q.query(`CREATE INDEX "IDX_users_role_created" ON "users" ("role", "created_at")`);

    await q.query(`
      CREATE TABLE "sessions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "refresh_generation" integer NOT NULL DEFAULT 0,
        "rotated_at" timestamptz,
        "remember" boolean NOT NULL DEFAULT false,
        "user_agent" varchar(512),
        "ip" varchar(64),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "last_used_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "revoked_at" timestamptz,
        "revoked_reason" varchar(64),
        CONSTRAINT "PK_sessions" PRIMARY KEY ("id"),
        CONSTRAINT "FK_sessions_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "IDX_sessions_user" ON "sessions" ("user_id")`);

    await q.query(`
      CREATE TABLE "refresh_tokens" (
        "token_hash" bytea NOT NULL,
        "session_id" uuid NOT NULL,
        "generation" integer NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_refresh_tokens" PRIMARY KEY ("token_hash"),
        CONSTRAINT "FK_refresh_tokens_session" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX "IDX_refresh_tokens_session" ON "refresh_tokens" ("session_id")`);

    await q.query(`
      CREATE TABLE "signing_keys" (
        "kid" varchar(64) NOT NULL,
        "algorithm" varchar(8) NOT NULL,
        "private_key_pem" text NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_signing_keys" PRIMARY KEY ("kid")
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "signing_keys"`);
    await q.query(`DROP TABLE "refresh_tokens"`);
    await q.query(`DROP TABLE "sessions"`);
    await q.query(`DROP TABLE "users"`);
  }
}
