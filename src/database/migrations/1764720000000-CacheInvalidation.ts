import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 13: every change to a row that an instance may cache (a session's validity, a user's
 * profile, a user's credentials) is announced with `pg_notify` on the channel `identity_cache`, by
 * triggers, so no code path (the app, a migration, the CLI, an operator's SQL) can change such a
 * row without every instance hearing of it when the change commits. A payload is a space-separated
 * list of keys (`session:<id>`, `user:<id>`, at most 100 per notification) or `flush` (drop
 * everything: a TRUNCATE, or a statement that changed more than 1000 rows). A rolled-back change
 * announces nothing. See src/auth/auth-cache.ts and src/database/change-listener.ts.
 *
 * Statement-level triggers with transition tables: one trigger call per statement, whatever the
 * number of rows, so a bulk UPDATE or a seed of a million rows costs one `flush`, not a million
 * notifications. (Transition tables allow one event per trigger, hence one trigger per event.)
 */
const CHANNEL = 'identity_cache';
const BULK_LIMIT = 1000;

/** What each table announces: the key prefix and the column that holds the id. */
const TABLES = [
  { table: 'sessions', prefix: 'session', column: 'id', events: ['UPDATE', 'DELETE'] },
  { table: 'users', prefix: 'user', column: 'id', events: ['UPDATE', 'DELETE'] },
  // A new, changed or removed credential (a second factor, a password) changes what the user's
  // sessions mean: it drops the user's cached entry, and with it every cached session of theirs.
  { table: 'credentials', prefix: 'user', column: 'user_id', events: ['INSERT', 'UPDATE', 'DELETE'] },
] as const;

const changedFunction = (table: string) => `identity_cache_${table}_changed`;

export class CacheInvalidation1764720000000 implements MigrationInterface {
  name = 'CacheInvalidation1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION identity_cache_publish(keys text[]) RETURNS void LANGUAGE plpgsql AS $$
      BEGIN
        IF keys IS NULL OR cardinality(keys) > ${BULK_LIMIT} THEN
          PERFORM pg_notify('${CHANNEL}', 'flush');
          RETURN;
        END IF;
        FOR i IN 1 .. coalesce(cardinality(keys), 0) BY 100 LOOP
          PERFORM pg_notify('${CHANNEL}', array_to_string(keys[i : i + 99], ' '));
        END LOOP;
      END $$`);

    for (const { table, prefix, column } of TABLES) {
      // old_rows / new_rows exist only for the events that have them; PL/pgSQL plans each branch
      // on first use, so a branch that names a missing transition table is never planned.
      await q.query(`
        CREATE FUNCTION ${changedFunction(table)}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'TRUNCATE' THEN
            PERFORM identity_cache_publish(NULL);
          ELSIF TG_OP = 'INSERT' THEN
            PERFORM identity_cache_publish(CASE WHEN (SELECT count(*) FROM new_rows) > ${BULK_LIMIT} THEN NULL
              ELSE ARRAY(SELECT DISTINCT '${prefix}:' || "${column}" FROM new_rows) END);
          ELSIF TG_OP = 'DELETE' THEN
            PERFORM identity_cache_publish(CASE WHEN (SELECT count(*) FROM old_rows) > ${BULK_LIMIT} THEN NULL
              ELSE ARRAY(SELECT DISTINCT '${prefix}:' || "${column}" FROM old_rows) END);
          ELSE
            PERFORM identity_cache_publish(CASE WHEN (SELECT count(*) FROM old_rows) > ${BULK_LIMIT} THEN NULL
              ELSE ARRAY(SELECT '${prefix}:' || "${column}" FROM old_rows UNION SELECT '${prefix}:' || "${column}" FROM new_rows) END);
          END IF;
          RETURN NULL;
        END $$`);
    }

    for (const { table, events } of TABLES) {
      for (const event of events) {
        const referencing = { INSERT: 'NEW TABLE AS new_rows', UPDATE: 'OLD TABLE AS old_rows NEW TABLE AS new_rows', DELETE: 'OLD TABLE AS old_rows' }[event];
        await q.query(`
          CREATE TRIGGER "identity_cache_${event.toLowerCase()}" AFTER ${event} ON "${table}"
          REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${changedFunction(table)}()`);
      }
      await q.query(`CREATE TRIGGER "identity_cache_truncate" AFTER TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION ${changedFunction(table)}()`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table, events } of TABLES) {
      for (const event of [...events, 'TRUNCATE']) await q.query(`DROP TRIGGER "identity_cache_${event.toLowerCase()}" ON "${table}"`);
      await q.query(`DROP FUNCTION ${changedFunction(table)}()`);
    }
    await q.query(`DROP FUNCTION identity_cache_publish(text[])`);
  }
}
