import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { Queryable } from '../database/sql';
import type { MessageChannel } from '../notifications/outbox-message.entity';

/**
 * The named budgets (SPEC §9 rule 5). Keys: a client address for `sign-in` (every surface's
 * sign-in route together) and `route` (`<route>|<address>`: each other per-IP limited route on
 * its own); an account id for `profile-changes`, `emails` and `sms`; `global` for `sms-global`.
 */
export type BudgetName = 'sign-in' | 'route' | 'profile-changes' | 'emails' | 'sms' | 'sms-global';

export interface Budget {
  limit: number;
  windowSeconds: number;
}

export interface LimitDecision {
  allowed: boolean;
  /** When refused: seconds until the window ends and the budget is whole again. */
  retryAfterSeconds: number;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86400;

const REFUSALS: Record<BudgetName, string> = {
  'sign-in': 'too many sign-in attempts from this address; try again later',
  route: 'too many requests from this address; try again later',
  'profile-changes': 'too many profile changes for this account; try again later',
  emails: 'this account has reached its daily limit of e-mails; try again later',
  sms: 'this account has reached its daily limit of text messages; try again later',
  'sms-global': 'text messages cannot be sent at the moment; try again later',
};

/**
 * Counts one use and answers, in ONE statement, how many uses the window holds now. The row lock
 * of the upsert orders concurrent callers (on any instance), so no two of them can both take the
 * last unit. A window starts at the first use after the previous one ended; the count stops at
 * limit + 1, so a flood of refused requests neither overflows it nor prolongs the wait.
 */
const CONSUME = `
  INSERT INTO rate_limits AS r (budget, key, hits, expires_at)
  VALUES ($1, $2, 1, now() + $3::int * interval '1 second')
  ON CONFLICT (budget, key) DO UPDATE SET
    hits = CASE WHEN r.expires_at <= now() THEN 1 ELSE least(r.hits + 1, $4::int + 1) END,
    expires_at = CASE WHEN r.expires_at <= now() THEN excluded.expires_at ELSE r.expires_at END
  RETURNING hits, ceil(extract(epoch FROM expires_at - now()))::int AS retry_after`;

/** Budgets of clients, accounts and the whole service, kept in PostgreSQL so every instance shares them. */
@Injectable()
export class LimitsService {
  readonly budgets: Record<BudgetName, Budget>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const { authRateLimitPerMinute: perMinute, limits } = config;
    this.budgets = {
      'sign-in': { limit: perMinute, windowSeconds: MINUTE },
      route: { limit: perMinute, windowSeconds: MINUTE },
      'profile-changes': { limit: limits.profileChangesPerHour, windowSeconds: HOUR },
      emails: { limit: limits.emailsPerDay, windowSeconds: DAY },
      sms: { limit: limits.smsPerDay, windowSeconds: DAY },
      'sms-global': { limit: limits.smsGlobalPerHour, windowSeconds: HOUR },
    };
  }

  /**
   * Counts one use of `budget` by `key`. Pass a transaction's manager as `db` to make the use part
   * of it: it is undone when the transaction rolls back.
   */
  async consume(budget: BudgetName, key: string, db: Queryable = this.dataSource): Promise<LimitDecision> {
    const { limit, windowSeconds } = this.budgets[budget];
    const [row] = await db.query(CONSUME, [budget, key, windowSeconds, limit]);
    return { allowed: row.hits <= limit, retryAfterSeconds: Math.max(1, row.retry_after) };
  }

  /** Like `consume`, but a refusal is thrown: RateLimited with `retryAfterSeconds`. */
  async take(budget: BudgetName, key: string, db?: Queryable): Promise<void> {
    const decision = await this.consume(budget, key, db);
    if (!decision.allowed) throw this.refusal(budget, decision);
  }

  /** The error a surface answers (429 with Retry-After in its envelope) when `budget` is spent. */
  refusal(budget: BudgetName, decision: LimitDecision): DomainError {
    return new DomainError('RateLimited', REFUSALS[budget], { retryAfterSeconds: decision.retryAfterSeconds });
  }

  /**
   * Counts one outgoing message: against the daily cap of the account it concerns (`emails` or
   * `sms`; none without an account) and, for SMS, the global hourly budget. A message refused by
   * the global budget gives its unit back to the account.
   */
  async consumeMessage(db: Queryable, userId: string | null, channel: MessageChannel): Promise<{ budget: BudgetName } & LimitDecision> {
    const perAccount: BudgetName = channel === 'sms' ? 'sms' : 'emails';
    if (userId) {
      const own = await this.consume(perAccount, userId, db);
      if (!own.allowed) return { budget: perAccount, ...own };
    }
    if (channel === 'sms') {
      const global = await this.consume('sms-global', 'global', db);
      if (!global.allowed) {
        if (userId) await this.refund(perAccount, userId, db);
        return { budget: 'sms-global', ...global };
      }
    }
    return { budget: perAccount, allowed: true, retryAfterSeconds: 0 };
  }

  /** Gives back one use taken in the current window. */
  async refund(budget: BudgetName, key: string, db: Queryable = this.dataSource): Promise<void> {
    await db.query(`UPDATE rate_limits SET hits = hits - 1 WHERE budget = $1 AND key = $2 AND hits > 0 AND expires_at > now()`, [budget, key]);
  }

  /** Deletes the counters whose window has ended (run by the hourly housekeeping). */
  async sweep(): Promise<void> {
    await this.dataSource.query(`DELETE FROM rate_limits WHERE expires_at <= now()`);
  }
}
