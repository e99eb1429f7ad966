import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { AuthContext, SessionsService } from '../auth/sessions.service';
import { DomainError } from '../common/domain-error';
import { SecurityContext } from '../common/security-context';
import { Transactions } from '../database/transactions';
import { Credential } from '../credentials/credential.entity';
import { NO_ACCOUNT } from '../credentials/credentials.repository';
import { CredentialsService } from '../credentials/credentials.service';
import { removalEvents } from '../credentials/factor-events';
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
 * within REAUTH_MAX_AGE). `/v1` never accepts them. Creating, using and revoking one are recorded in
 * the audit log (`app_password.*`, with its name, never the password) in the change's transaction.
 */
@Injectable()
export class AppPasswords {
  constructor(
    private readonly factors: FactorsRepository,
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  list(userId: string): Promise<Credential[]> {
    return this.factors.listAppPasswords(userId);
  }

  /** A new app password: the credential and the password itself, which is never shown again. */
  async create(actor: AuthContext, name: string, currentPassword?: string, context?: SecurityContext): Promise<{ credential: Credential; password: string }> {
    if (!(await this.credentials.hasSecondFactor(actor.user.id))) {
      throw noSecondFactor('app passwords are for accounts with a second factor (without one, legacy clients sign in with the account password)');
    }
    const origin = { context, sessionId: actor.sessionId };
    await this.credentials.requireFreshProof(actor.user, actor, currentPassword, origin);
    if ((await this.factors.summary(actor.user.id)).appPasswords >= MAX_APP_PASSWORDS) {
      throw DomainError.validation([{ field: 'name', message: `an account holds at most ${MAX_APP_PASSWORDS} app passwords; revoke one first` }]);
    }
    const password = newAppPassword();
    const credential = await this.transactions.run(async (tx) => {
      const added = await this.factors.addAppPassword(tx, actor.user.id, name.trim(), hashTyped(password));
      await this.audit.record(tx, { type: 'app_password.created', userId: actor.user.id, ...origin, details: { name: added.name } });
      return added;
    });
    return { credential, password };
  }

  /** Revokes the app password and ends every session it opened, in one transaction with its event. */
  async revoke(actor: AuthContext, id: string, context?: SecurityContext): Promise<void> {
    const { user } = actor;
    await this.transactions.run(async (tx) => {
      await this.sessions.revokeOpenedBy(user.id, [id], 'app_password_revoked', tx, { context, sessionId: actor.sessionId });
      const deleted = await this.factors.delete(tx, user.id, [id], ['app-password']);
      if (deleted.length === 0) throw new DomainError('NotFound', 'no such app password');
      for (const event of removalEvents(user.id, deleted, { context, sessionId: actor.sessionId }, 'revoked_by_user')) await this.audit.record(tx, event);
    });
  }

  /**
   * The app password `password` is, for a legacy sign-in; null when it is none. A locked account is
   * refused first (AccountLocked), whatever was typed. The lookup runs for unknown accounts too (an
   * id that matches nothing), so it costs every sign-in the same. A match changes nothing yet: the
   * caller refuses a blocked account, else completes the sign-in with `use`.
   */
  async match(user: User | null, password: string): Promise<Credential | null> {
    const userId = user?.id ?? NO_ACCOUNT;
    await this.credentials.assertNotLocked(userId);
    return this.factors.findAppPassword(userId, hashTyped(password));
  }

  /**
   * A legacy sign-in of `user` with the app password `credential` (from `match`) completes: its last
   * use, the lockout reset and `app_password.used` in one transaction (the session and its
   * `sign_in.succeeded` follow in their own statement, SessionsService.start).
   */
  async use(user: User, credential: Credential, context?: SecurityContext): Promise<void> {
    await this.transactions.run(async (tx) => {
      await this.factors.touch(credential.id, tx);
      await this.credentials.settleSignIn(user.id, tx);
      await this.audit.record(tx, { type: 'app_password.used', userId: user.id, context, details: { name: credential.name } });
    });
  }
}
