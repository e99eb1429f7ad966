import type { Logger } from '@nestjs/common';

/**
 * pg and pool errors that mean "no database connection could be had" rather than "the query failed":
 * the pool's acquire timeout (every connection busy), a refused or dropped connection, a server
 * shutting down or not accepting connections yet. Surfaces answer these 503, never 500.
 */
export function isDatabaseUnavailable(exception: unknown): boolean {
  const { code, message } = (exception ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|EHOSTUNREACH)$/.test(code)) return true;
    // 08xxx connection exceptions, 57P01-57P03 admin/crash shutdown, cannot connect now; 53300 too many connections.
    if (code.startsWith('08') || /^57P0[1-3]$/.test(code) || code === '53300') return true;
  }
  // TypeORM releases a transaction's connection on the connection's error event (the server went
  // away mid-transaction): the transaction's next statement then fails with "already released".
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|Cannot use a pool after calling end|Client has encountered a connection error|Client was closed and is not queryable|Query runner already released|connection provided by a query runner was already released/i.test(
      message,
    )
  );
}

/**
 * A pool that cannot hand out a connection fails every request at once: one warning line when it
 * starts, then at most one summary line per interval instead of one per refused request.
 */
export class UnavailableLog {
  private static readonly INTERVAL_MS = 10_000;
  private windowStart = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly message = 'database unavailable: answering 503',
  ) {}

  record(exception: unknown, now = Date.now()): void {
    if (now - this.windowStart < UnavailableLog.INTERVAL_MS) {
      this.suppressed += 1;
      return;
    }
    const reason = exception instanceof Error ? exception.message : String(exception);
    this.logger.warn({ reason, refusedSinceLastLine: this.suppressed }, this.message);
    this.windowStart = now;
    this.suppressed = 0;
  }
}
