import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull, MoreThan, Not } from 'typeorm';
import { columnsOf, hydrate, prepared, PreparedStatement, queryPrepared } from '../database/prepared';
import { queryRows } from '../database/sql';
import { EVENT_COLUMNS } from '../audit/audit-log.service';
import { Tx } from '../database/transactions';
import { User, UserRole } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';

/** A refresh token's session, locked for the transaction, with its user (null once deleted). */
export interface LockedSession {
  token: RefreshToken;
  session: Session;
  user: User | null;
}

/** A live session's user and when the session ends. */
export interface LiveSession {
  user: User;
  sessionExpiresAt: Date;
}

/** A session rotated by `rotateCurrent`. */
export interface RotatedSession {
  session: Session;
  role: UserRole;
}

@Injectable()
export class SessionsRepository {
  /** The hot statements, prepared once per pooled connection (src/database/prepared.ts). */
  private readonly statements: { liveSessionUser: PreparedStatement; rotate: PreparedStatement };
  /** `create`'s statements, by the columns a session sets. */
  private readonly createStatements = new Map<string, PreparedStatement>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.statements = {
      liveSessionUser: prepared(
        'auth_live_session_user',
        // The session by its primary key first (MATERIALIZED): joined directly, the planner may
        // derive "user_id = $2" and walk all of that user's sessions through IDX_sessions_user.
        `WITH s AS MATERIALIZED (
           SELECT "user_id", "expires_at" FROM "sessions" WHERE "id" = $1 AND "revoked_at" IS NULL AND "expires_at" > now()
         )
         SELECT s."expires_at" AS "session_expires_at", ${columnsOf(dataSource, User, 'u', 'u_')}
           FROM s JOIN "users" u ON u."id" = s."user_id"
          WHERE s."user_id" = $2`,
      ),
      rotate: prepared(
        'auth_rotate_refresh_token',
        `WITH presented AS (
           SELECT "session_id", "generation" FROM "refresh_tokens" WHERE "token_hash" = $1
         ), rotated AS (
           UPDATE "sessions" s
              SET "refresh_generation" = s."refresh_generation" + 1, "rotated_at" = $3, "last_used_at" = $3,
                  "expires_at" = CASE WHEN s."remember" THEN $4::timestamptz ELSE $5::timestamptz END
             FROM presented p, "users" u
            WHERE s."id" = p."session_id" AND s."refresh_generation" = p."generation"
              AND s."revoked_at" IS NULL AND s."expires_at" > $3
              AND u."id" = s."user_id" AND u."status" = 'active'
           RETURNING ${columnsOf(dataSource, Session, 's', 's_')}, u."role" AS "user_role"
         ), stored AS (
           INSERT INTO "refresh_tokens" ("token_hash", "session_id", "generation")
           SELECT $2, "s_id", "s_refresh_generation" FROM rotated
         )
         SELECT * FROM rotated`,
      ),
    };
  }

  /**
   * Creates the session, its first refresh token and the sign-in's audit event (`eventRow`, in
   * EVENT_COLUMNS order) in one statement: one round trip, atomic like a transaction (issue 13; it
   * was a six-statement transaction). The columns are those `session` sets, so a new column of
   * sessions (set by a caller) needs no change here: each set of columns is its own prepared statement.
   */
  async create(session: Partial<Session>, tokenHash: Buffer, eventRow: unknown[]): Promise<Session> {
    const metadata = this.dataSource.getMetadata(Session);
    const columns = metadata.columns.filter((column) => session[column.propertyName as keyof Session] !== undefined);
    const names = columns.map((column) => column.databaseName);
    const key = names.join(',');
    let statement = this.createStatements.get(key);
    if (!statement) {
      const event = EVENT_COLUMNS.map((_, i) => `$${i + 2}`).join(', ');
      const values = names.map((_, i) => `$${i + 2 + EVENT_COLUMNS.length}`).join(', ');
      statement = prepared(
        `auth_create_session_${this.createStatements.size}`,
        `WITH created AS (
           INSERT INTO "sessions" (${names.map((name) => `"${name}"`).join(', ')}) VALUES (${values})
           RETURNING ${columnsOf(this.dataSource, Session, '"sessions"', 's_')}
         ), token AS (
           INSERT INTO "refresh_tokens" ("token_hash", "session_id", "generation") SELECT $1, "s_id", "s_refresh_generation" FROM created
         ), event AS (
           INSERT INTO "security_events" (${EVENT_COLUMNS.join(', ')}) VALUES (${event})
         )
         SELECT * FROM created`,
      );
      this.createStatements.set(key, statement);
    }
    const values = columns.map((column) => this.dataSource.driver.preparePersistentValue(session[column.propertyName as keyof Session], column));
    const [row] = await queryPrepared(this.dataSource, statement, [tokenHash, ...eventRow, ...values]);
    return hydrate(this.dataSource, Session, row, 's_');
  }

  /**
   * The token check's single read (on a cache miss): the live session joined with its user, by
   * primary key, as a prepared statement. Null when the session is unknown, revoked, expired or
   * belongs to someone else.
   */
  async findLiveSessionUser(sessionId: string, userId: string): Promise<LiveSession | null> {
    const [row] = await queryPrepared(this.dataSource, this.statements.liveSessionUser, [sessionId, userId]);
    return row ? { user: hydrate(this.dataSource, User, row, 'u_'), sessionExpiresAt: row.session_expires_at as Date } : null;
  }

  /**
   * Refresh's common case in one statement, one round trip (issue 13): when `presentedHash` is the
   * current token of a live session of an active user, rotate (generation + 1, slide the expiry,
   * store `nextHash` as the new current token) and return the session with its user's role. Null
   * otherwise, changing nothing: then the caller takes the locked transaction, which tells the
   * other cases apart (unknown, revoked, expired, blocked, a retry within the grace window, reuse).
   * Two concurrent refreshes with one token: the second waits for the row lock, then no longer
   * matches (the generation moved on) and takes the transaction, where it is a grace retry.
   */
  async rotateCurrent(presentedHash: Buffer, nextHash: Buffer, now: Date, expiry: { remembered: Date; normal: Date }): Promise<RotatedSession | null> {
    const [row] = await queryPrepared(this.dataSource, this.statements.rotate, [presentedHash, nextHash, now, expiry.remembered, expiry.normal]);
    return row ? { session: hydrate(this.dataSource, Session, row, 's_'), role: row.user_role as UserRole } : null;
  }

  /**
   * Runs `work` with the token's session row locked, so concurrent refreshes are serialised. The
   * session's user is read on the same transaction: a transaction that waited for a second pool
   * connection could deadlock the pool once every connection is held by such a transaction.
   */
  async withLockedSessionOfToken<T>(tokenHash: Buffer, work: (found: LockedSession | null, manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const token = await manager.findOneBy(RefreshToken, { tokenHash });
      const session = token
        ? await manager.getRepository(Session).createQueryBuilder('s').setLock('pessimistic_write').where('s.id = :id', { id: token.sessionId }).getOne()
        : null;
      const user = session ? await manager.findOneBy(User, { id: session.userId }) : null;
      return work(token && session ? { token, session, user } : null, manager);
    });
  }

  /** Whether `tokenHash` is stored as the session's token of `generation`. */
  hasRefreshToken(manager: EntityManager, sessionId: string, generation: number, tokenHash: Buffer): Promise<boolean> {
    return manager.existsBy(RefreshToken, { tokenHash, sessionId, generation });
  }

  async addRefreshToken(manager: EntityManager, sessionId: string, generation: number, tokenHash: Buffer): Promise<void> {
    await manager.insert(RefreshToken, { tokenHash, sessionId, generation });
  }

  listLive(userId: string): Promise<Session[]> {
    return this.dataSource.getRepository(Session).find({
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { lastUsedAt: 'DESC' },
    });
  }

  /** Revokes one live session of the user; false when there was none. */
  async revoke(userId: string, sessionId: string, reason: string, tx?: Tx): Promise<boolean> {
    const result = await (tx ?? this.dataSource.manager)
      .getRepository(Session)
      .update({ id: sessionId, userId, revokedAt: IsNull() }, { revokedAt: () => 'now()', revokedReason: reason });
    return (result.affected ?? 0) > 0;
  }

  /** Marks a live session as stepped up now with `method` (aal2); null when it is not live. */
  async stepUp(userId: string, sessionId: string, method: string): Promise<Session | null> {
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `UPDATE sessions SET stepped_up_at = now(), aal = 2, amr = CASE WHEN $3 = ANY(amr) THEN amr ELSE amr || $3::varchar END
        WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now() RETURNING id`,
      [sessionId, userId, method],
    );
    return rows.length ? this.dataSource.getRepository(Session).findOneBy({ id: sessionId }) : null;
  }

  /** Revokes the live sessions that these credentials (app passwords) opened. */
  async revokeOpenedBy(userId: string, credentialIds: string[], reason: string, tx?: Tx): Promise<number> {
    if (credentialIds.length === 0) return 0;
    const result = await (tx ?? this.dataSource.manager)
      .getRepository(Session)
      .update({ userId, revokedAt: IsNull(), credentialId: In(credentialIds) }, { revokedAt: () => 'now()', revokedReason: reason });
    return result.affected ?? 0;
  }

  async revokeAll(userId: string, reason: string, exceptSessionId?: string, tx?: Tx): Promise<number> {
    const result = await (tx ?? this.dataSource.manager)
      .getRepository(Session)
      .update({ userId, revokedAt: IsNull(), ...(exceptSessionId ? { id: Not(exceptSessionId) } : {}) }, { revokedAt: () => 'now()', revokedReason: reason });
    return result.affected ?? 0;
  }
}
