import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log (issue 14): one append-only row per security event. No foreign key to users: the
 * events of a deleted account stay (without personal data). A trigger refuses every UPDATE except
 * the one that removes personal data (IP address, user agent, contact addresses in `details`);
 * DELETE is left to the retention sweep (AUDIT_RETENTION_DAYS).
 */
export class SecurityEvents1764763200000 implements MigrationInterface {
  name = 'SecurityEvents1764763200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "security_events" (
        "id" bigint GENERATED ALWAYS AS IDENTITY,
        "occurred_at" timestamptz NOT NULL DEFAULT now(),
        "type" varchar(48) NOT NULL,
        "user_id" uuid,
        "actor_id" uuid,
        "surface" varchar(8),
        "ip" varchar(64),
        "user_agent" varchar(512),
        "session_id" uuid,
        "details" jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT "PK_security_events" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_security_events_details" CHECK (jsonb_typeof("details") = 'object')
      )`);
    // Newest first per user (GET /v1/me/events, the admin list by user, deleting an account).
    await q.query(`CREATE INDEX "IDX_security_events_user" ON "security_events" ("user_id", "id")`);
    await q.query(`CREATE INDEX "IDX_security_events_type" ON "security_events" ("type", "id")`);
    // Retention sweep and time ranges.
    await q.query(`CREATE INDEX "IDX_security_events_occurred_at" ON "security_events" ("occurred_at")`);
    // Administrators acting on others (the admin filter by actor, deleting an administrator's account).
    await q.query(
      `CREATE INDEX "IDX_security_events_actor" ON "security_events" ("actor_id", "id")
       WHERE "actor_id" IS NOT NULL AND "actor_id" IS DISTINCT FROM "user_id"`,
    );
    await q.query(`
      CREATE FUNCTION "security_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        -- The one change allowed: personal data removed (IP, user agent, keys of details), nothing else.
        IF NEW."id" = OLD."id" AND NEW."occurred_at" = OLD."occurred_at" AND NEW."type" = OLD."type"
           AND NEW."user_id" IS NOT DISTINCT FROM OLD."user_id" AND NEW."actor_id" IS NOT DISTINCT FROM OLD."actor_id"
           AND NEW."surface" IS NOT DISTINCT FROM OLD."surface" AND NEW."session_id" IS NOT DISTINCT FROM OLD."session_id"
           AND NEW."ip" IS NULL AND NEW."user_agent" IS NULL AND OLD."details" @> NEW."details" THEN
          RETURN NEW;
        END IF;
        RAISE EXCEPTION 'security_events is append-only: an update may only remove personal data';
      END $$`);
    await q.query(
      `CREATE TRIGGER "TRG_security_events_append_only" BEFORE UPDATE ON "security_events"
       FOR EACH ROW EXECUTE FUNCTION "security_events_append_only"()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "security_events"`);
    await q.query(`DROP FUNCTION "security_events_append_only"()`);
  }
}
