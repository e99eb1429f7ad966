import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { prepared, queryPrepared, queryPreparedOn } from '../database/prepared';
import { queryRows } from '../database/sql';
import { Transactions, Tx } from '../database/transactions';
import { Credential, CredentialType, SECOND_FACTOR_TYPES } from './credential.entity';

/** What an account has enrolled besides its password, counted in one statement. */
export interface FactorSummary {
  totp: boolean;
  passkeys: number;
  recoveryCodesLeft: number;
  appPasswords: number;
}

/** Unique index names whose violation means "already enrolled". */
const ENROLMENT_CONSTRAINTS = new Set(['UQ_credentials_totp', 'UQ_credentials_subject']);

/** A row that `delete` or `deleteAll` removed: enough to record what went (never its secret). */
export interface RemovedCredential {
  id: string;
  type: CredentialType;
  name: string | null;
}

export function isEnrolmentConflict(error: unknown): boolean {
  const { code, constraint } = (error ?? {}) as { code?: string; constraint?: string; driverError?: { constraint?: string } };
  const name = constraint ?? (error as { driverError?: { constraint?: string } })?.driverError?.constraint;
  return code === '23505' && !!name && ENROLMENT_CONSTRAINTS.has(name);
}

/**
 * The rows of the `credentials` table that are not the password: second factors (`totp`,
 * `totp-pending`, `webauthn`), recovery codes and app passwords. Statements that decide a proof
 * (a TOTP time step, a passkey counter, a recovery code) check and write in one statement, so two
 * instances can never both accept the same code.
 */
const SUMMARY = prepared(
  'factors_summary',
  `SELECT count(*) FILTER (WHERE type = 'totp')::int AS totp,
          count(*) FILTER (WHERE type = 'webauthn')::int AS passkeys,
          count(*) FILTER (WHERE type = 'recovery-code' AND last_used_at IS NULL)::int AS recovery,
          count(*) FILTER (WHERE type = 'app-password')::int AS app_passwords
     FROM credentials WHERE user_id = $1 AND type IN ('totp', 'webauthn', 'recovery-code', 'app-password')`,
);
const HAS_SECOND_FACTOR = prepared('factors_has_second_factor', `SELECT EXISTS (SELECT 1 FROM credentials WHERE user_id = $1 AND type = ANY($2)) AS found`);

@Injectable()
export class FactorsRepository {
  constructor(private readonly transactions: Transactions) {}

  /** Every sign-in asks (is there a second step?): a prepared statement outside a transaction. */
  async summary(userId: string, tx: Tx = this.transactions.none): Promise<FactorSummary> {
    const [row] = await queryPreparedOn(tx, SUMMARY, [userId]);
    return {
      totp: (row.totp as number) > 0,
      passkeys: row.passkeys as number,
      recoveryCodesLeft: row.recovery as number,
      appPasswords: row.app_passwords as number,
    };
  }

  /** Legacy sign-ins ask (may the account password alone sign in?): prepared. */
  async hasSecondFactor(userId: string): Promise<boolean> {
    const [row] = await queryPrepared(this.transactions.none.connection, HAS_SECOND_FACTOR, [userId, SECOND_FACTOR_TYPES]);
    return row.found as boolean;
  }

  /** The second factors (TOTP, passkeys), oldest first. */
  listFactors(userId: string): Promise<Credential[]> {
    return this.transactions.none.find(Credential, { where: { userId, type: In(SECOND_FACTOR_TYPES) }, order: { createdAt: 'ASC' } });
  }

  findFactor(userId: string, id: string, tx: Tx = this.transactions.none): Promise<Credential | null> {
    return tx.findOneBy(Credential, { id, userId, type: In(SECOND_FACTOR_TYPES) });
  }

  async renameFactor(userId: string, id: string, name: string): Promise<Credential | null> {
    await this.transactions.none.update(Credential, { id, userId, type: In(SECOND_FACTOR_TYPES) }, { name });
    return this.findFactor(userId, id);
  }

  /** Deletes rows of the user by id (optionally only of `types`); returns the rows deleted (their audit events). */
  async delete(tx: Tx, userId: string, ids: string[], types?: CredentialType[]): Promise<RemovedCredential[]> {
    if (ids.length === 0) return [];
    return queryRows<RemovedCredential>(
      tx,
      `DELETE FROM credentials WHERE user_id = $1 AND id = ANY($2::uuid[]) AND ($3::text[] IS NULL OR type = ANY($3)) RETURNING id, type, name`,
      [userId, ids, types ?? null],
    );
  }

  /** Deletes every row of these types; returns the rows deleted, oldest first (their audit events; app passwords: their sessions end). */
  async deleteAll(tx: Tx, userId: string, types: CredentialType[]): Promise<RemovedCredential[]> {
    return queryRows<RemovedCredential>(
      tx,
      `WITH removed AS (DELETE FROM credentials WHERE user_id = $1 AND type = ANY($2) RETURNING id, type, name, created_at)
       SELECT id, type, name FROM removed ORDER BY created_at, id`,
      [userId, types],
    );
  }

  // --- TOTP -------------------------------------------------------------------------------------

  /** Starts (or restarts) an enrolment: the one pending secret of the user. */
  async savePendingTotp(userId: string, sealedSecret: string): Promise<Credential> {
    return this.transactions.run(async (tx) => {
      await tx.delete(Credential, { userId, type: 'totp-pending' });
      return tx.save(Credential, tx.create(Credential, { userId, type: 'totp-pending', secret: sealedSecret, name: 'Authenticator app' }));
    });
  }

  findTotp(userId: string, type: 'totp' | 'totp-pending', tx: Tx = this.transactions.none): Promise<Credential | null> {
    return tx.findOneBy(Credential, { userId, type });
  }

  /** The pending secret becomes the account's TOTP, its first code's step used. A second TOTP violates UQ_credentials_totp. */
  async activateTotp(tx: Tx, pendingId: string, timeStep: number): Promise<Credential | null> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `UPDATE credentials SET type = 'totp', counter = $2, created_at = now(), updated_at = now(), last_used_at = now()
        WHERE id = $1 AND type = 'totp-pending' RETURNING id`,
      [pendingId, timeStep],
    );
    return rows.length ? tx.findOneBy(Credential, { id: rows[0].id }) : null;
  }

  /** Deletes TOTP enrolments that waited a day for their first code (an enrolment lives 15 minutes). */
  async sweepPendingTotp(): Promise<void> {
    await this.transactions.none.query(`DELETE FROM credentials WHERE type = 'totp-pending' AND created_at < now() - interval '1 day'`);
  }

  /** Accepts `timeStep` for this TOTP only if it is later than every step accepted before (a code is good once). */
  async acceptTotpStep(tx: Tx, credentialId: string, timeStep: number): Promise<boolean> {
    const rows = await queryRows(
      tx,
      `UPDATE credentials SET counter = $2, last_used_at = now() WHERE id = $1 AND type = 'totp' AND (counter IS NULL OR counter < $2) RETURNING id`,
      [credentialId, timeStep],
    );
    return rows.length === 1;
  }

  // --- passkeys ---------------------------------------------------------------------------------

  /** Stores a new passkey; null when this credential id is registered already (to any account). */
  async addPasskey(tx: Tx, passkey: Pick<Credential, 'userId' | 'subject' | 'secret' | 'name' | 'counter' | 'details'>): Promise<Credential | null> {
    const rows = await queryRows<{ id: string }>(
      tx,
      `INSERT INTO credentials (user_id, type, subject, secret, name, counter, details) VALUES ($1, 'webauthn', $2, $3, $4, $5, $6)
       ON CONFLICT (type, subject) WHERE subject IS NOT NULL DO NOTHING RETURNING id`,
      [passkey.userId, passkey.subject, passkey.secret, passkey.name, passkey.counter, passkey.details === null ? null : JSON.stringify(passkey.details)],
    );
    return rows.length ? tx.findOneBy(Credential, { id: rows[0].id }) : null;
  }

  listPasskeys(userId: string, tx: Tx = this.transactions.none): Promise<Credential[]> {
    return tx.find(Credential, { where: { userId, type: 'webauthn' }, order: { createdAt: 'ASC' } });
  }

  /** A passkey by its credential id, of `userId` when given. */
  findPasskey(subject: string, userId?: string, tx: Tx = this.transactions.none): Promise<Credential | null> {
    return tx.findOneBy(Credential, { type: 'webauthn', subject, ...(userId ? { userId } : {}) });
  }

  /**
   * Records a verified assertion's signature counter, only if it moved forward (or both stay 0:
   * authenticators that keep no counter). A counter that did not grow means a cloned authenticator.
   */
  async acceptPasskeyCounter(tx: Tx, credentialId: string, counter: number): Promise<boolean> {
    const rows = await queryRows(
      tx,
      `UPDATE credentials SET counter = $2, last_used_at = now()
        WHERE id = $1 AND type = 'webauthn' AND (coalesce(counter, 0) < $2 OR ($2 = 0 AND coalesce(counter, 0) = 0)) RETURNING id`,
      [credentialId, counter],
    );
    return rows.length === 1;
  }

  // --- recovery codes ---------------------------------------------------------------------------

  /** A new set of recovery codes (their hashes); the old set is gone. */
  async replaceRecoveryCodes(tx: Tx, userId: string, hashes: string[]): Promise<void> {
    await tx.delete(Credential, { userId, type: 'recovery-code' });
    await tx.insert(
      Credential,
      hashes.map((secret) => ({ userId, type: 'recovery-code' as const, secret })),
    );
  }

  /** Uses the recovery code with this hash, once: true when it was there and unused. */
  async consumeRecoveryCode(tx: Tx, userId: string, hash: string): Promise<boolean> {
    const rows = await queryRows(
      tx,
      `UPDATE credentials SET last_used_at = now() WHERE user_id = $1 AND type = 'recovery-code' AND secret = $2 AND last_used_at IS NULL RETURNING id`,
      [userId, hash],
    );
    return rows.length === 1;
  }

  // --- app passwords ----------------------------------------------------------------------------

  /** Stores a new app password (its hash) in `tx`, with the event of its creation. */
  addAppPassword(tx: Tx, userId: string, name: string, hash: string): Promise<Credential> {
    return tx.save(Credential, tx.create(Credential, { userId, type: 'app-password', name, secret: hash }));
  }

  listAppPasswords(userId: string, tx: Tx = this.transactions.none): Promise<Credential[]> {
    return tx.find(Credential, { where: { userId, type: 'app-password' }, order: { createdAt: 'ASC' } });
  }

  /** The app password of `userId` with this hash (one indexed statement, run for unknown accounts too). */
  findAppPassword(userId: string, hash: string): Promise<Credential | null> {
    return this.transactions.none.findOneBy(Credential, { userId, type: 'app-password', secret: hash });
  }

  /** Stamps the last use of an app password (in the transaction that records the use). */
  async touch(credentialId: string, tx: Tx = this.transactions.none): Promise<void> {
    await tx.update(Credential, { id: credentialId }, { lastUsedAt: () => 'now()' });
  }
}
