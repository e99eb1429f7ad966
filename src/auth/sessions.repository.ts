import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, IsNull, MoreThan, Not } from 'typeorm';
import { queryRows } from '../database/sql';
import { Tx } from '../database/transactions';
import { User } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';

/** A refresh token's session, locked for the transaction, with its user (null once deleted). */
export interface LockedSession {
  token: RefreshToken;
  session: Session;
  user: User | null;
}

@Injectable()
export class SessionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Creates the session and its first refresh token in one transaction (`also` runs in it too: the sign-in's audit event). */
  async create(session: Partial<Session>, tokenHash: Buffer, also?: (tx: Tx, saved: Session) => Promise<void>): Promise<Session> {
    return this.dataSource.transaction(async (manager) => {
      const saved = await manager.save(Session, manager.create(Session, session));
      await manager.insert(RefreshToken, { tokenHash, sessionId: saved.id, generation: saved.refreshGeneration });
      await also?.(manager, saved);
      return saved;
    });
  }

  /**
   * The token check's single read: the live session joined with its user, by primary key.
   * Null when the session is unknown, revoked, expired or belongs to someone else.
   */
  findLiveSessionUser(sessionId: string, userId: string): Promise<User | null> {
    return this.dataSource
      .getRepository(User)
      .createQueryBuilder('u')
      .innerJoin(Session, 's', 's.user_id = u.id')
      .where('s.id = :sessionId AND u.id = :userId', { sessionId, userId })
      .andWhere('s.revoked_at IS NULL AND s.expires_at > now()')
      .getOne();
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
