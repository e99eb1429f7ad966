import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { Transactions, Tx } from '../database/transactions';
import { EventDetails, PERSONAL_DETAIL_KEYS, SecurityEvent, SecurityEventType } from './security-events';

/** A stored event, as the /v1 lists present it. */
export interface StoredEvent {
  id: string;
  occurredAt: Date;
  type: SecurityEventType;
  userId: string | null;
  actorId: string | null;
  surface: string | null;
  ip: string | null;
  userAgent: string | null;
  sessionId: string | null;
  details: EventDetails;
}

export interface EventFilter {
  userId?: string;
  actorId?: string;
  type?: SecurityEventType;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
  /** From a previous page's `nextCursor`: only events older than it. */
  cursor?: string;
  limit: number;
}

export interface EventPage {
  items: StoredEvent[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** Told of every event once it is written (in its transaction); metrics count sign-ins, lockouts and reuse from here. */
export type EventObserver = (event: SecurityEvent) => void;

/** The columns of an event's row that `rowOf` gives values for. */
export const EVENT_COLUMNS = ['type', 'user_id', 'actor_id', 'surface', 'ip', 'user_agent', 'session_id', 'details'] as const;

const CURSOR = /^[1-9]\d{0,17}$/;
const SWEEP_BATCH = 10_000;

/** Whether `cursor` is one this API hands out (an opaque string, validated before it reaches SQL). */
export function isEventCursor(cursor: string): boolean {
  return CURSOR.test(cursor);
}

/**
 * The audit log (`security_events`). `record` appends one row in the caller's transaction, so an
 * event exists if and only if the change it records committed. Rows are never changed, except that
 * deleting an account removes the personal data from its events (`forget`); the hourly
 * housekeeping deletes rows older than AUDIT_RETENTION_DAYS (`sweep`).
 */
@Injectable()
export class AuditLog {
  private readonly observers: EventObserver[] = [];

  constructor(
    private readonly transactions: Transactions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async record(tx: Tx, event: SecurityEvent): Promise<void> {
    await tx.query(`INSERT INTO security_events (${EVENT_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, this.rowOf(event));
    this.written(event);
  }

  /**
   * The values of `event`'s row, in `EVENT_COLUMNS` order, for a statement that writes the event
   * together with the change it records (one round trip: a sign-in's session, see
   * SessionsRepository.create). Call `written` once that statement succeeded.
   */
  rowOf(event: SecurityEvent): unknown[] {
    const { context } = event;
    return [
      event.type,
      event.userId,
      event.actorId === undefined ? event.userId : event.actorId,
      context?.surface ?? null,
      context?.ip?.slice(0, 64) ?? null,
      context?.userAgent?.slice(0, 512) ?? null,
      event.sessionId ?? null,
      JSON.stringify(event.details ?? {}),
    ];
  }

  /** Tells the observers (metrics) of an event its caller wrote. */
  written(event: SecurityEvent): void {
    for (const observe of this.observers) observe(event);
  }

  /** An event that records no other change: its own transaction. */
  recordAlone(event: SecurityEvent): Promise<void> {
    return this.transactions.run((tx) => this.record(tx, event));
  }

  observe(observer: EventObserver): void {
    this.observers.push(observer);
  }

  /**
   * An account is being deleted (in `tx`): its events stay, but the IP addresses, user agents and
   * contact addresses in them go, also in the events where it acted on others (an administrator).
   * The user id stays: a random UUID that no longer leads to anyone once the account row is gone.
   */
  async forget(tx: Tx, userId: string): Promise<void> {
    const scrub = `SET ip = NULL, user_agent = NULL, details = details - $2::text[]`;
    const personal = [...PERSONAL_DETAIL_KEYS];
    await tx.query(`UPDATE security_events ${scrub} WHERE user_id = $1`, [userId, personal]);
    await tx.query(`UPDATE security_events ${scrub} WHERE actor_id = $1 AND actor_id IS DISTINCT FROM user_id`, [userId, personal]);
  }

  /** Newest first, `limit` per page. */
  async list(filter: EventFilter): Promise<EventPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (filter.userId) add('user_id = ?', filter.userId);
    if (filter.actorId) add('actor_id = ? AND actor_id IS DISTINCT FROM user_id', filter.actorId);
    if (filter.type) add('type = ?', filter.type);
    if (filter.from) add('occurred_at >= ?', filter.from);
    if (filter.to) add('occurred_at < ?', filter.to);
    if (filter.cursor) add('id < ?::bigint', filter.cursor);
    params.push(filter.limit + 1);
    // Ordered by the bigint column: a bare `id` in ORDER BY would be the text output column, which lists '99' before '100'.
    const rows = await queryRows<Record<string, any>>(
      this.transactions.none,
      `SELECT id::text AS id, occurred_at, type, user_id, actor_id, surface, ip, user_agent, session_id, details
       FROM security_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY security_events.id DESC LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, filter.limit).map((row): StoredEvent => ({
      id: row.id,
      occurredAt: row.occurred_at,
      type: row.type,
      userId: row.user_id,
      actorId: row.actor_id,
      surface: row.surface,
      ip: row.ip,
      userAgent: row.user_agent,
      sessionId: row.session_id,
      details: row.details,
    }));
    return { items: page, nextCursor: rows.length > filter.limit ? page[page.length - 1].id : null };
  }

  /** Deletes events older than AUDIT_RETENTION_DAYS, in batches (short locks on a large table). */
  async sweep(): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = await queryRows(
        this.transactions.none,
        `DELETE FROM security_events WHERE id IN (
           SELECT id FROM security_events WHERE occurred_at < now() - $1 * interval '1 day' LIMIT $2)
         RETURNING 1`,
        [this.config.operations.auditRetentionDays, SWEEP_BATCH],
      );
      deleted += rows.length;
      if (rows.length < SWEEP_BATCH) return deleted;
    }
  }
}
