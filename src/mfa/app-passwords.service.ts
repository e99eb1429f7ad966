import { Injectable } from '@nestjs/common';
import { AuthContext, SessionsService } from '../auth/sessions.service';
import { DomainError } from '../common/domain-error';
import { Transactions } from '../database/transactions';
import { Credential } from '../credentials/credential.entity';
import { NO_ACCOUNT } from '../credentials/credentials.repository';
import { CredentialsService } from '../credentials/credentials.service';
import { FactorsRepository } from '../credentials/factors.repository';
import { User } from '../users/user.entity';
import { hashTyped, newAppPassword } from './one-time-secrets';
import { noSecondFactor } from './second-factors.service';

/** How many app passwords one account may hold at once. */
export const MAX_APP_PASSWORDS = 25;

/**
 * App passwords (issue 12): how an account with a second factor signs in on the legacy surfaces,
 * whose documents have no second step. Each is 160 random bits, shown once, stored as SHA-256,
 * named, listed with its last use, and revocable: revoking one ends the sessions it opened (a
 * session remembers the credential that created it). Creating one is a sensitive change (aal2
 * within REAUTH_MAX_AGE). `/v1` never accepts them.
 */
@Injectable()
export class AppPasswords {
  constructor(
    private readonly factors: FactorsRepository,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly transactions: Transactions,
  ) {}

  list(userId: string): Promise<Credential[]> {
    return this.factors.listAppPasswords(userId);
  }

  /** A new app password: the credential and the password itself, which is never shown again. */
  async create(actor: AuthContext, name: string, currentPassword?: string): Promise<{ credential: Credential; password: string }> {
    if (!(await this.credentials.hasSecondFactor(actor.user.id))) {
      throw noSecondFactor('app passwords are for accounts with a second factor (without one, legacy clients sign in with the account password)');
    }
    await this.credentials.requireFreshProof(actor.user, actor, currentPassword);
    if ((await this.factors.summary(actor.user.id)).appPasswords >= MAX_APP_PASSWORDS) {
      throw DomainError.validation([{ field: 'name', message: `an account holds at most ${MAX_APP_PASSWORDS} app passwords; revoke one first` }]);
    }
    const password = newAppPassword();
    const credential = await this.factors.addAppPassword(actor.user.id, name.trim(), hashTyped(password));
    return { credential, password };
  }

  /** Revokes the app password and ends every session it opened, in one transaction. */
  async revoke(user: User, id: string): Promise<void> {
    await this.transactions.run(async (tx) => {
      await this.sessions.revokeOpenedBy(user.id, [id], 'app_password_revoked', tx);
      const deleted = await this.factors.delete(tx, user.id, [id], ['app-password']);
      if (deleted.length === 0) throw new DomainError('NotFound', 'no such app password');
    });
  }

  /**
   * The app password `password` is, for a legacy sign-in; null when it is none. A locked account is
   * refused first (AccountLocked), whatever was typed. The lookup runs for unknown accounts too (an
   * id that matches nothing), so it costs every sign-in the same. A match completes the sign-in.
   */
  async match(user: User | null, password: string): Promise<Credential | null> {
    const userId = user?.id ?? NO_ACCOUNT;
    await this.credentials.assertNotLocked(userId);
    const found = await this.factors.findAppPassword(userId, hashTyped(password));
    if (!found) return null;
    await this.factors.touch(found.id);
    await this.credentials.settleSignIn(userId);
    return found;
  }
}
