import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import { SecurityEvent } from '../audit/security-events';
import type { MessageChannel } from '../notifications/outbox-message.entity';

/** The pg pool behind TypeORM (what `identity_db_pool_*` reads). */
interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

const CHANNELS: MessageChannel[] = ['email', 'sms'];
/** A scrape never waits longer than this for the database (the outbox backlog). */
const COLLECT_TIMEOUT_MS = 1000;

let processRegistry: Registry | undefined;

/**
 * Process metrics (CPU, memory, handles, GC, event-loop lag), once per process: their collectors
 * (an event-loop delay monitor, a GC observer) are process-wide, while a process may run several
 * apps (the tests).
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The Prometheus metrics of one app (GET /metrics; see the README's table). A request costs one
 * histogram observation (its `_count` is the request count); sign-ins, lockouts and refresh reuse
 * are counted from the audit events as they are written; the outbox backlog and the pool are read
 * when scraped.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route template, method, status and surface: latency in seconds (`_count` is the number of requests).',
    labelNames: ['route', 'method', 'status', 'surface'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly signIns = new Counter({
    name: 'identity_sign_ins_total',
    help: 'Password sign-ins by surface and result (success, wrong_password, unknown_account, locked, blocked).',
    labelNames: ['surface', 'result'] as const,
    registers: [this.registry],
  });

  readonly lockouts = new Counter({
    name: 'identity_lockouts_total',
    help: 'Failures (sign-in, a wrong current password or a wrong second-factor answer) that locked an account, by surface.',
    labelNames: ['surface'] as const,
    registers: [this.registry],
  });

  readonly refreshReuse = new Counter({
    name: 'identity_refresh_reuse_detected_total',
    help: 'Already-rotated refresh tokens presented outside the grace window (the session was revoked), by surface.',
    labelNames: ['surface'] as const,
    registers: [this.registry],
  });

  readonly outboxDeliveries = new Counter({
    name: 'identity_outbox_deliveries_total',
    help: 'Messages delivered (accepted by the SMTP server or the SMS gateway), by channel.',
    labelNames: ['channel'] as const,
    registers: [this.registry],
  });

  readonly outboxFailures = new Counter({
    name: 'identity_outbox_delivery_failures_total',
    help: 'Failed delivery attempts by channel; final="true" when the message was given up (OUTBOX_MAX_ATTEMPTS).',
    labelNames: ['channel', 'final'] as const,
    registers: [this.registry],
  });

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    audit: AuditLog,
  ) {
    for (const channel of CHANNELS) {
      this.outboxDeliveries.inc({ channel }, 0);
      for (const final of ['true', 'false']) this.outboxFailures.inc({ channel, final }, 0);
    }
    audit.observe((event) => this.countEvent(event));
    this.databaseGauges();
  }

  /** One request: called from Fastify's onResponse hook. */
  observeRequest(route: string, method: string, status: number, surface: string, seconds: number): void {
    this.httpRequests.observe({ route, method, status: String(status), surface }, seconds);
  }

  /** The Prometheus text of this app and of the process. */
  async text(): Promise<{ contentType: string; body: string }> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics().metrics()]);
    return { contentType: this.registry.contentType, body: `${own}\n${process}` };
  }

  private countEvent(event: SecurityEvent): void {
    const surface = event.context?.surface ?? 'none';
    switch (event.type) {
      case 'sign_in.succeeded':
        this.signIns.inc({ surface, result: 'success' });
        break;
      case 'sign_in.failed':
        this.signIns.inc({ surface, result: String(event.details?.reason ?? 'unknown') });
        break;
      case 'account.locked':
        this.lockouts.inc({ surface });
        break;
      case 'session.refresh_reuse':
        this.refreshReuse.inc({ surface });
        break;
      default:
    }
  }

  /** Gauges read when scraped: the outbox backlog (one query, bounded in time) and the connection pool. */
  private databaseGauges(): void {
    const dataSource = this.dataSource;
    const pool = () => (dataSource.driver as unknown as { master?: PgPool }).master;
    const databaseUp = new Gauge({
      name: 'identity_database_up',
      help: '1 when the last scrape could read the database (the outbox backlog), else 0.',
      registers: [this.registry],
    });
    new Gauge({
      name: 'identity_outbox_backlog',
      help: 'Messages waiting for delivery (pending, including those waiting for a retry), by channel.',
      labelNames: ['channel'] as const,
      registers: [this.registry],
      async collect() {
        try {
          const rows: { channel: MessageChannel; n: number }[] = await Promise.race([
            dataSource.query(`SELECT channel, count(*)::int AS n FROM outbox_messages WHERE status = 'pending' GROUP BY channel`),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), COLLECT_TIMEOUT_MS).unref()),
          ]);
          for (const channel of CHANNELS) this.set({ channel }, rows.find((row) => row.channel === channel)?.n ?? 0);
          databaseUp.set(1);
        } catch {
          // The last known backlog stays; identity_database_up says it is stale.
          databaseUp.set(0);
        }
      },
    });
    const poolGauge = (name: string, help: string, read: (p: PgPool) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const p = pool();
          if (p) this.set(read(p));
        },
      });
    poolGauge('identity_db_pool_connections_in_use', 'Pool connections checked out by requests and jobs now.', (p) => p.totalCount - p.idleCount);
    poolGauge('identity_db_pool_connections_idle', 'Open pool connections nobody uses now.', (p) => p.idleCount);
    poolGauge('identity_db_pool_waiting', 'Requests waiting for a pool connection now (answered 503 after DATABASE_POOL_TIMEOUT_MS).', (p) => p.waitingCount);
    poolGauge('identity_db_pool_connections_max', 'DATABASE_POOL_SIZE: the most connections this instance opens.', (p) => p.options?.max ?? 0);
  }
}
