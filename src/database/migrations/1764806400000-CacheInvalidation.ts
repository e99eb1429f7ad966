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

/**
 * What each table announces: the key prefix and the column that holds the id. An UPDATE announces
 * only rows that really changed, ignoring `bookkeeping` columns no cache reads: a refresh rotating
 * a session's token or a sign-in resetting a credential's failure count is not a change for the
 * caches, and a notifying transaction holds PostgreSQL's global notification lock through its
 * commit (WAL flush included), so announcing those would serialise every refresh and sign-in.
 * Any other column, including one added later, is a change. A session's `expires_at` moving
 * forward is bookkeeping (a cache holding the earlier expiry only misses sooner); moving it back is
 * a change.
 */
const TABLES = [
  {
    table: 'sessions',
    prefix: 'session',
    column: 'id',
    events: ['UPDATE', 'DELETE'],
    bookkeeping: ['refresh_generation', 'rotated_at', 'last_used_at', 'expires_at'],
    alsoChanged: 'n."expires_at" < o."expires_at"',
  },
  { table: 'users', prefix: 'user', column: 'id', events: ['UPDATE', 'DELETE'], bookkeeping: [], alsoChanged: 'false' },
  // A new, changed or removed credential (a second factor, a password) changes what the user's
  // sessions mean: it drops the user's cached entry, and with it every cached session of theirs.
  // The lockout counters, last use and a passkey's signature counter are bookkeeping (sign-in writes them every time).
  {
    table: 'credentials',
    prefix: 'user',
    column: 'user_id',
    events: ['INSERT', 'UPDATE', 'DELETE'],
    bookkeeping: ['failed_count', 'locked_until', 'last_used_at', 'updated_at', 'counter'],
    alsoChanged: 'false',
  },
] as const;

const changedFunction = (table: string) => `identity_cache_${table}_changed`;

export class CacheInvalidation1764806400000 implements MigrationInterface {
  name = 'CacheInvalidation1764806400000';

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

    for (const { table, prefix, column, bookkeeping, alsoChanged } of TABLES) {
      const image = (row: string) => (bookkeeping.length ? `(to_jsonb(${row}) - ARRAY[${bookkeeping.map((c) => `'${c}'`).join(', ')}])` : `to_jsonb(${row})`);
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
              ELSE ARRAY(
                SELECT DISTINCT '${prefix}:' || k
                  FROM old_rows o FULL JOIN new_rows n ON n."id" = o."id", LATERAL (VALUES (o."${column}"), (n."${column}")) AS keys(k)
                 WHERE k IS NOT NULL
                   AND (o."id" IS NULL OR n."id" IS NULL OR ${image('o')} IS DISTINCT FROM ${image('n')} OR ${alsoChanged})) END);
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
