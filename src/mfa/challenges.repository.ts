import { Injectable } from '@nestjs/common';
import { Transactions, Tx } from '../database/transactions';
import { MfaChallenge } from './mfa-challenge.entity';

@Injectable()
export class ChallengesRepository {
  constructor(private readonly transactions: Transactions) {}

  create(
    challenge: Pick<MfaChallenge, 'purpose' | 'userId' | 'sessionId' | 'methods' | 'webauthnChallenge' | 'remember' | 'expiresAt'>,
  ): Promise<MfaChallenge> {
    const tx = this.transactions.none;
    return tx.save(MfaChallenge, tx.create(MfaChallenge, challenge));
  }

  /** The challenge as it is now, unlocked (to learn whose it is before the transaction that judges a try). */
  peek(id: string): Promise<MfaChallenge | null> {
    return this.transactions.none.findOneBy(MfaChallenge, { id });
  }

  /** The challenge, locked until `tx` ends: tries on it are judged one at a time, on whichever instance. */
  lock(tx: Tx, id: string): Promise<MfaChallenge | null> {
    return tx.getRepository(MfaChallenge).createQueryBuilder('c').setLock('pessimistic_write').where('c.id = :id', { id }).getOne();
  }

  async recordWrongTry(tx: Tx, id: string, attempts: number, exhausted: boolean): Promise<void> {
    await tx.update(MfaChallenge, { id }, { attempts, ...(exhausted ? { consumedAt: () => 'now()' } : {}) });
  }

  async consume(tx: Tx, id: string): Promise<void> {
    await tx.update(MfaChallenge, { id }, { consumedAt: () => 'now()' });
  }

  /** Deletes challenges a day past their expiry (run hourly; idempotent on every instance). */
  async sweep(): Promise<void> {
    await this.transactions.none.query(`DELETE FROM mfa_challenges WHERE expires_at < now() - interval '1 day'`);
  }
}
