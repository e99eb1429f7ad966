import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { isDatabaseUnavailable, UnavailableLog } from '../database/connection-failure';
import { queryRows } from '../database/sql';
import { Shutdown } from '../lifecycle/shutdown';
import { Metrics } from '../metrics/metrics.service';
import { Delivery, DELIVERY_TIMEOUT_MS, DeliveryChannel, LogChannel, SmsWebhookChannel, SmtpChannel } from './channels';
import { MessageChannel } from './outbox-message.entity';

/** A claimed row stays invisible to other dispatchers this long; a delivery always ends well before. */
const CLAIM_LEASE_MS = 8 * DELIVERY_TIMEOUT_MS;
const BATCH_SIZE = 10;
const MAX_BACKOFF_MS = 3_600_000;
/** Sent and failed rows are kept this long for support questions, then deleted. */
const RETENTION_DAYS = 7;
const HOUSEKEEPING_EVERY_MS = 3_600_000;

interface ClaimedRow {
  id: string;
  channel: MessageChannel;
  recipient: string;
  subject: string | null;
  text_body: string;
  html_body: string | null;
  attempts: number;
}

/** Delay before retry number `attempt + 1`: exponential from `baseMs`, at most an hour. */
export function retryDelayMs(attempt: number, baseMs: number): number {
  return Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
}

/**
 * Delivers the outbox. Any number of instances may run one: rows are claimed with
 * `FOR UPDATE SKIP LOCKED` and leased, so each message goes out once; a crash mid-delivery
 * only delays it until the lease ends. New rows are picked up at once on this instance
 * (`wake()` after the commit) and within the poll interval on the others.
 */
@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Outbox');
  /** While the database is down every pass fails: one warning per interval, not one error per poll. */
  private readonly unavailable = new UnavailableLog(this.logger, 'database unavailable: outbox delivery paused');
  private readonly channels: Record<MessageChannel, DeliveryChannel>;
  /** Rows this instance claimed whose delivery has not ended: id → the claim's attempt number. */
  private readonly inFlight = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private lastHousekeeping = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly shutdown: Shutdown,
  ) {
    this.channels = {
      email: config.smtpUrl ? new SmtpChannel(config.smtpUrl, config.mailFrom) : new LogChannel('email'),
      sms: config.smsWebhookUrl ? new SmsWebhookChannel(config.smsWebhookUrl) : new LogChannel('sms'),
    };
  }

  onApplicationBootstrap(): void {
    if (!this.config.outbox.dispatch) {
      this.logger.log('Outbox dispatch is off on this instance (OUTBOX_DISPATCH=false)');
      return;
    }
    this.logger.log(`E-mail goes to ${this.channels.email.description}; SMS to ${this.channels.sms.description}`);
    this.timer = setInterval(() => this.wake(), this.config.outbox.pollIntervalMs);
    this.timer.unref();
    this.wake();
  }

  /**
   * Claims nothing more; waits for the deliveries in flight (during a graceful shutdown, only what is
   * left of SHUTDOWN_GRACE_MS), then releases the leases of those that did not end, so another
   * instance delivers them at once instead of after the lease (a message cut off mid-delivery may
   * then go out twice).
   */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const running = this.running;
    if (running) {
      const wait = this.shutdown.remainingMs();
      let timer: NodeJS.Timeout | undefined;
      await (Number.isFinite(wait) ? Promise.race([running, new Promise((resolve) => (timer = setTimeout(resolve, wait)))]) : running);
      clearTimeout(timer);
    }
    await this.releaseLeases().catch((error: Error) => this.logger.warn({ err: error }, 'could not release the outbox leases'));
    Object.values(this.channels).forEach((channel) => channel.close?.());
  }

  /** Makes the rows still in delivery here due again now (unless their state moved on meanwhile). */
  private async releaseLeases(): Promise<void> {
    if (this.inFlight.size === 0) return;
    const ids = [...this.inFlight.keys()];
    const attempts = ids.map((id) => this.inFlight.get(id)!);
    const released = await queryRows(
      this.dataSource,
      `UPDATE outbox_messages o SET next_attempt_at = now()
       FROM unnest($1::uuid[], $2::int[]) AS r(id, attempts)
       WHERE o.id = r.id AND o.attempts = r.attempts AND o.status = 'pending'
       RETURNING o.id`,
      [ids, attempts],
    );
    this.logger.warn({ released: released.length }, 'outbox leases released: another instance delivers those messages');
  }

  /** Delivers whatever is due now; overlapping calls fold into one more pass. */
  wake(): void {
    if (this.stopped || !this.config.outbox.dispatch) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: Error) => (isDatabaseUnavailable(error) ? this.unavailable.record(error) : this.logger.error({ err: error }, 'outbox pass failed')))
      .finally(() => {
        this.running = undefined;
      });
  }

  /** Resolves when no pass is in flight (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      const batch = await this.claim();
      await Promise.all(batch.map((row) => this.deliver(row)));
      if (batch.length === BATCH_SIZE) this.again = true;
    } while (this.again && !this.stopped);
    await this.housekeeping();
  }

  private async claim(): Promise<ClaimedRow[]> {
    return queryRows<ClaimedRow>(
      this.dataSource,
      `UPDATE outbox_messages SET attempts = attempts + 1, next_attempt_at = now() + $2 * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM outbox_messages
         WHERE status = 'pending' AND next_attempt_at <= now()
         ORDER BY next_attempt_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED)
       RETURNING id, channel, recipient, subject, text_body, html_body, attempts`,
      [BATCH_SIZE, CLAIM_LEASE_MS],
    );
  }

  private async deliver(row: ClaimedRow): Promise<void> {
    this.inFlight.set(row.id, row.attempts);
    try {
      await this.deliverClaimed(row);
    } finally {
      this.inFlight.delete(row.id);
    }
  }

  private async deliverClaimed(row: ClaimedRow): Promise<void> {
    const message: Delivery = { channel: row.channel, to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body };
    try {
      await this.channels[row.channel].deliver(message);
    } catch (error) {
      await this.recordFailure(row, error instanceof Error ? error.message : String(error));
      return;
    }
    this.metrics.outboxDeliveries.inc({ channel: row.channel });
    // The bodies carry codes and links: once delivered they are not kept.
    await this.dataSource.query(
      `UPDATE outbox_messages SET status = 'sent', sent_at = now(), text_body = '', html_body = NULL, last_error = NULL
       WHERE id = $1 AND attempts = $2`,
      [row.id, row.attempts],
    );
  }

  private async recordFailure(row: ClaimedRow, reason: string): Promise<void> {
    const lastError = reason.slice(0, 1000);
    const final = row.attempts >= this.config.outbox.maxAttempts;
    this.metrics.outboxFailures.inc({ channel: row.channel, final: String(final) });
    if (final) {
      this.logger.error({ outboxId: row.id, channel: row.channel, attempts: row.attempts, reason: lastError }, 'message undeliverable, giving up');
      await this.dataSource.query(
        `UPDATE outbox_messages SET status = 'failed', last_error = $3, text_body = '', html_body = NULL WHERE id = $1 AND attempts = $2`,
        [row.id, row.attempts, lastError],
      );
      return;
    }
    const delay = retryDelayMs(row.attempts, this.config.outbox.retryBaseMs);
    this.logger.warn({ outboxId: row.id, channel: row.channel, attempts: row.attempts, retryInMs: delay, reason: lastError }, 'delivery failed, will retry');
    await this.dataSource.query(
      `UPDATE outbox_messages SET last_error = $3, next_attempt_at = now() + $4 * interval '1 millisecond' WHERE id = $1 AND attempts = $2`,
      [row.id, row.attempts, lastError, delay],
    );
  }

  private async housekeeping(): Promise<void> {
    if (Date.now() - this.lastHousekeeping < HOUSEKEEPING_EVERY_MS) return;
    this.lastHousekeeping = Date.now();
    await this.dataSource.query(`DELETE FROM outbox_messages WHERE status <> 'pending' AND created_at < now() - $1 * interval '1 day'`, [RETENTION_DAYS]);
  }
}
