import { randomBytes } from 'node:crypto';
import { Global, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Client, Notification } from 'pg';
import { APP_CONFIG, AppConfig } from '../config/app-config';

/** The channel the triggers of migration 1764806400000-CacheInvalidation notify on. */
export const CHANGES_CHANNEL = 'identity_cache';
/** Payload meaning "forget everything" (a TRUNCATE or a bulk statement). */
export const FLUSH = 'flush';
/** application_name of the listener's connection (pg_stat_activity). */
export const LISTENER_APPLICATION_NAME = 'identity-service:changes';

/** What a per-instance cache implements to stay coherent with the database. */
export interface ChangeSubscriber {
  /** Rows with these keys (`session:<id>`, `user:<id>`) changed and the change committed. */
  changed(keys: string[]): void;
  /**
   * Forget everything. `live` says whether notifications are flowing again: false when the
   * connection was lost (serve from the database until it is back), true once re-subscribed.
   */
  reset(live: boolean): void;
}

interface Round {
  id: string;
  resolve: () => void;
  promise: Promise<void>;
}

function round(id: string): Round {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { id, resolve, promise };
}

/**
 * The dedicated LISTEN connection of this instance (its own `pg.Client`, never one from the pool:
 * a pooled connection is shared and may be closed or recycled at any time). It hands every
 * committed change of a cached row to the subscribers. When it loses the connection (a restart of
 * PostgreSQL, `pg_terminate_backend`, a network cut noticed by the heartbeat), it tells the
 * subscribers to drop everything and reconnects; until it has re-subscribed, caches stay off and
 * every request reads the database.
 *
 * `settle()` is the read-your-writes barrier: it resolves once every change committed before the
 * call has reached the subscribers (PostgreSQL delivers notifications in commit order, so our own
 * marker notification arriving means everything before it has arrived).
 */
@Injectable()
export class ChangeListener implements OnApplicationBootstrap, OnModuleDestroy {
  static readonly RETRY_MIN_MS = 100;
  static readonly RETRY_MAX_MS = 5_000;
  /** A marker not back within this long means the connection is dead without having said so. */
  static readonly SETTLE_TIMEOUT_MS = 2_000;
  /** How often an idle connection is checked (a half-open TCP connection emits no error). */
  static readonly HEARTBEAT_MS = 5_000;
  /** Delay before the next reconnection attempt; doubles per failure up to RETRY_MAX_MS. Tests may raise it to hold a gap open. */
  retryDelayMs = ChangeListener.RETRY_MIN_MS;
  private readonly logger = new Logger('Caches');
  private readonly subscribers: ChangeSubscriber[] = [];
  /** This instance's own channel for settle() markers, so other instances never see them. */
  private readonly markerChannel = `${CHANGES_CHANNEL}_${randomBytes(8).toString('hex')}`;
  private client?: Client;
  private live = false;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private rounds = 0;
  private inFlight?: Round;
  private next?: Round;
  private settleTimer?: NodeJS.Timeout;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  subscribe(subscriber: ChangeSubscriber): void {
    this.subscribers.push(subscriber);
    subscriber.reset(this.live);
  }

  /** True while notifications flow: caches may serve. */
  get isLive(): boolean {
    return this.live;
  }

  /** The backend pid of the listening connection (tests kill it with pg_terminate_backend). */
  get backendPid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID;
  }

  async onApplicationBootstrap(): Promise<void> {
    // The first attempt is awaited so an instance starts with its caches on; if it fails, the
    // instance serves from the database and keeps trying in the background.
    await this.connect();
    this.heartbeatTimer = setInterval(() => void this.settle(), ChangeListener.HEARTBEAT_MS).unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.heartbeatTimer);
    this.goDark();
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  /**
   * Resolves when every change committed before this call has been handed to the subscribers (or
   * the connection was lost, which resets them: nothing stale can be served either way). Callers
   * that arrive while a marker is on its way share the next one.
   */
  settle(): Promise<void> {
    if (!this.live) return Promise.resolve();
    this.next ??= round(String(++this.rounds));
    const waiting = this.next.promise;
    if (!this.inFlight) this.sendMarker();
    return waiting;
  }

  private sendMarker(): void {
    const marker = (this.inFlight = this.next);
    this.next = undefined;
    if (!marker || !this.client) return;
    this.settleTimer = setTimeout(() => this.lost(new Error('a settle marker did not come back in time')), ChangeListener.SETTLE_TIMEOUT_MS);
    this.client.query('SELECT pg_notify($1, $2)', [this.markerChannel, marker.id]).catch((error: Error) => this.lost(error));
  }

  private markerArrived(id: string): void {
    if (this.inFlight?.id !== id) return;
    clearTimeout(this.settleTimer);
    this.inFlight.resolve();
    this.inFlight = undefined;
    if (this.next) this.sendMarker();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    // Time limits on connecting and on each query, so a server that stops answering mid-way (a
    // network cut while subscribing) fails this attempt, which is retried, instead of leaving the
    // instance without caches for good.
    const client = new Client({
      connectionString: this.config.databaseUrl,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
      connectionTimeoutMillis: ChangeListener.SETTLE_TIMEOUT_MS * 2,
      query_timeout: ChangeListener.SETTLE_TIMEOUT_MS * 2,
    });
    client.on('notification', (message) => this.onNotification(client, message));
    client.on('error', (error) => this.lost(error, client));
    client.on('end', () => this.lost(new Error('connection ended'), client));
    this.client = client;
    try {
      await client.connect();
      // A settle marker is a NOTIFY, whose transaction gets an xid and so a commit record: this
      // connection writes nothing else, so it never waits for the WAL flush (notifications are
      // delivered in commit order either way).
      await client.query('SET synchronous_commit = off');
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      await client.query(`LISTEN ${this.markerChannel}`);
    } catch (error) {
      this.lost(error as Error, client);
      return;
    }
    if (this.client !== client || this.stopped) return;
    // Anything read before LISTEN took effect may have missed its notification: start empty.
    this.live = true;
    this.retryDelayMs = ChangeListener.RETRY_MIN_MS;
    for (const subscriber of this.subscribers) subscriber.reset(true);
    this.logger.log('listening for changes: caches on');
  }

  private onNotification(client: Client, message: Notification): void {
    if (client !== this.client) return;
    if (message.channel === this.markerChannel) return this.markerArrived(message.payload ?? '');
    if (message.channel !== CHANGES_CHANNEL || !this.live) return;
    const payload = message.payload ?? '';
    if (payload === FLUSH) {
      for (const subscriber of this.subscribers) subscriber.reset(true);
      return;
    }
    const keys = payload.split(' ');
    for (const subscriber of this.subscribers) subscriber.changed(keys);
  }

  /** Reconnects now instead of after the pending delay (tests that held a gap open with a long retryDelayMs). */
  reconnectNow(): Promise<void> {
    if (this.client || this.stopped) return Promise.resolve();
    clearTimeout(this.reconnectTimer);
    return this.connect();
  }

  /** Drops the caches at once, then reconnects after a delay (doubling up to RETRY_MAX_MS). */
  private lost(error: Error, client: Client | undefined = this.client): void {
    if (client !== this.client) return; // an old connection's late event
    const wasLive = this.live;
    this.goDark();
    this.client = undefined;
    client?.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasLive) this.logger.warn({ reason: error.message }, 'change notifications lost: caches off, reading the database until re-subscribed');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), this.retryDelayMs);
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, ChangeListener.RETRY_MAX_MS);
  }

  /** Caches off and empty; anyone waiting in settle() is released (nothing cached can be stale now). */
  private goDark(): void {
    this.live = false;
    clearTimeout(this.settleTimer);
    for (const subscriber of this.subscribers) subscriber.reset(false);
    this.inFlight?.resolve();
    this.next?.resolve();
    this.inFlight = this.next = undefined;
  }
}

/** One listener per instance, for every cache that needs to hear of changes. */
@Global()
@Module({ providers: [ChangeListener], exports: [ChangeListener] })
export class ChangesModule {}
