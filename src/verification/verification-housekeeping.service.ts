import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import { LimitsService } from '../limits/limits.service';

const EVERY_MS = 3_600_000;

/**
 * Deletes one-time secrets and resend cooldowns that can no longer matter (a day past their use
 * or expiry), and rate-limit counters whose window has ended, so the tables stay small however
 * many "forgot password" requests or sign-in attempts arrive; and security events older than
 * AUDIT_RETENTION_DAYS.
 * Idempotent, so every instance may run it.
 */
@Injectable()
export class VerificationHousekeeping implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Verification');
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly limits: LimitsService,
    private readonly audit: AuditLog,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep().catch((err: Error) => this.logger.warn({ err }, 'housekeeping failed')), EVERY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    await this.dataSource.query(`DELETE FROM verification_secrets WHERE coalesce(consumed_at, expires_at) < now() - interval '1 day'`);
    await this.dataSource.query(`DELETE FROM send_cooldowns WHERE last_sent_at < now() - interval '1 day'`);
    await this.limits.sweep();
    await this.audit.sweep();
  }
}
