import { Injectable } from '@nestjs/common';
import { columnsOf, hydrate, prepared, PreparedStatement, queryPrepared, queryPreparedOn } from '../database/prepared';
import { queryRows } from '../database/sql';
import { Transactions, Tx } from '../database/transactions';
import { Credential } from './credential.entity';

/** Stands for "no such account" so an unknown account runs the same statements as a known one. */
export const NO_ACCOUNT = '00000000-0000-0000-0000-000000000000';

/** What one more failure did: the count now, and the lock it set (null: not locked). */
export interface FailureRecorded {
  failures: number;
  lockedSeconds: number | null;
}

/** Lockout settings: from `threshold` failures on, locked for `baseSeconds`, doubling per failure, at most `maxSeconds`. */
export interface LockoutPolicy {
  threshold: number;
  baseSeconds: number;
  maxSeconds: number;
}

/**
 * A success resets the failures. Most successes have none to reset: then the statement matches no
 * row and writes nothing (no WAL flush to wait for, no notification); the password's last use is
 * kept to the hour (nothing shows it to anyone).
 */
const NOTHING_TO_RESET = `failed_count = 0 AND locked_until IS NULL AND coalesce(last_used_at > now() - interval '1 hour', false)`;
const RECORD_SUCCESS = prepared(
  'credentials_record_success',
  `UPDATE credentials SET failed_count = 0, locked_until = NULL, last_used_at = now() WHERE id = $1 AND NOT (${NOTHING_TO_RESET})`,
);
const RECORD_SIGN_IN_SUCCESS = prepared(
  'credentials_record_sign_in_success',
  `UPDATE credentials SET failed_count = 0, locked_until = NULL, last_used_at = now() WHERE user_id = $1 AND type = 'password' AND NOT (${NOTHING_TO_RESET})`,
);

@Injectable()
export class CredentialsRepository {
  private passwordOf?: PreparedStatement;

  constructor(private readonly transactions: Transactions) {}

  /** The user's password credential (sign-in's second read: a prepared statement outside a transaction). */
  async findPassword(userId: string, tx: Tx = this.transactions.none): Promise<Credential | null> {
    const dataSource = tx.connection;
    this.passwordOf ??= prepared(
      'credentials_password_of',
      `SELECT ${columnsOf(dataSource, Credential, 'c', '')} FROM "credentials" c WHERE c."user_id" = $1 AND c."type" = 'password'`,
    );
    const [row] = await queryPreparedOn(tx, this.passwordOf, [userId]);
    return row ? hydrate(dataSource, Credential, row, '') : null;
  }

  /** Sets (or replaces) the user's password hash; a new password starts with no failures. */
  async setPassword(tx: Tx, userId: string, hash: string): Promise<void> {
    await tx.query(
      `INSERT INTO credentials (user_id, type, secret) VALUES ($1, 'password', $2)
       ON CONFLICT (user_id) WHERE type = 'password'
       DO UPDATE SET secret = EXCLUDED.secret, failed_count = 0, locked_until = NULL, updated_at = now()`,
      [userId, hash],
    );
  }

  /** Replaces the hash of the same password (new parameters) without touching anything else. */
  async rehash(userId: string, hash: string): Promise<void> {
    await this.transactions.none.query(`UPDATE credentials SET secret = $2 WHERE user_id = $1 AND type = 'password'`, [userId, hash]);
  }

  /**
   * Counts one more failure in a single statement (no lost updates under concurrency) and locks
   * per `policy`. For an unknown account (`NO_ACCOUNT`) the same statement matches no row, so the
   * answer takes the same time. `also` runs in the same transaction with what the failure did.
   */
  async recordFailure(
    userId: string,
    policy: LockoutPolicy,
    { within, also }: { within?: Tx; also?: (tx: Tx, failure: FailureRecorded | null) => Promise<void> } = {},
  ): Promise<void> {
    const record = async (tx: Tx) => {
      // Not waiting for the WAL flush: a write must not make a known account's answer slower than
      // an unknown one's, whose statement writes nothing (a crash may at worst forget a failure).
      await tx.query('SET LOCAL synchronous_commit = off');
      const [row] = await queryRows<{ failed_count: number; locked_seconds: number | null }>(
        tx,
        `UPDATE credentials SET failed_count = failed_count + 1,
           locked_until = CASE WHEN failed_count + 1 >= $2
             THEN now() + make_interval(secs => LEAST($4::float8, $3::float8 * power(2, LEAST(failed_count + 1 - $2, 30))))
             ELSE locked_until END
         WHERE user_id = $1 AND type = 'password'
         RETURNING failed_count, CASE WHEN failed_count >= $2 THEN ceil(extract(epoch FROM locked_until - now()))::int END AS locked_seconds`,
        [userId, policy.threshold, policy.baseSeconds, policy.maxSeconds],
      );
      // In the same transaction: the audit events of this failure (and of the lockout it caused).
      await also?.(tx, row ? { failures: row.failed_count, lockedSeconds: row.locked_seconds } : null);
    };
    // Inside the caller's transaction when it has one (a second-factor try counted with its challenge).
    await (within ? record(within) : this.transactions.run(record));
  }

  async recordSuccess(credential: Credential): Promise<void> {
    await queryPrepared(this.transactions.none.connection, RECORD_SUCCESS, [credential.id]);
  }

  /** A sign-in completed (its second step too, when the account has one): the failures start over. */
  async recordSignInSuccess(userId: string, tx: Tx = this.transactions.none): Promise<void> {
    await queryPreparedOn(tx, RECORD_SIGN_IN_SUCCESS, [userId]);
  }

  /** Lifts the lockout (a reset proved control of the account). */
  async clearFailures(tx: Tx, userId: string): Promise<void> {
    await tx.query(`UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = $1 AND type = 'password'`, [userId]);
  }
}
