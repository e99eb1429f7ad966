import { createHash, randomBytes, randomInt } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { Transactions, Tx } from '../database/transactions';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { queryRows } from '../database/sql';
import { Locale } from '../common/locale';
import { NotificationsService } from '../notifications/notifications.service';
import { MessageChannel } from '../notifications/outbox-message.entity';
import { TemplateParams } from '../notifications/templates';
import { User } from '../users/user.entity';
import { VerificationPurpose } from './verification-secret.entity';

export interface IssueRequest {
  /** Null for an unknown account: only the cooldown is recorded, so the answer looks the same. */
  user: User | null;
  /** Purposes whose message is a code and/or link of their own (a revert link rides in a notice). */
  purpose: Exclude<VerificationPurpose, 'email-change-revert'>;
  channel: MessageChannel;
  /** The normalised e-mail or E.164 phone the secret goes to (and, later, proves). */
  target: string;
  /** Send a 6-digit code. */
  code?: boolean;
  /** Send a link: builds its URL from the token. */
  link?: (token: string) => string;
  locale: Locale;
  /**
   * For requests made without signing in ("forgot password"): answer as soon as the cooldown is
   * claimed and write the code and its message right after, so the response time does not tell
   * whether the account exists.
   */
  hideAccountExistence?: boolean;
  /**
   * The signed-in account that asked, when `user` is null only so that a target belonging to another
   * account does not show (an e-mail change to a taken address): its message cap is charged as if the
   * message went, so at the cap both answers are the same 429 (SPEC §9 rule 5).
   */
  requestedBy?: User;
}

export interface Issued {
  /** Seconds until another one may be sent to this target for this purpose. */
  retryAfterSeconds: number;
  /** Seconds the code lives (when one was asked for). */
  codeExpiresInSeconds: number;
}

export interface CodeCheck {
  userId: string;
  purpose: VerificationPurpose;
  /** The address the code went to; omitted: the user's newest live code of `purpose`, wherever it went. */
  target?: string;
  code: string;
}

/** SPEC §9 rule 3: the "this wasn't me" link of an e-mail change lives 7 days. */
export const EMAIL_CHANGE_REVERT_TTL = 7 * 24 * 3600;

/** The same answer for a wrong, expired, used, voided or exhausted secret: no oracle. */
export const INVALID_CODE = 'the code or link is wrong, expired or already used';

const CODE_FORMAT = /^\d{6}$/;
const LINK_TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/**
 * Owns every one-time secret (SPEC §6): 6-digit codes and link tokens per purpose and target.
 * Only hashes are stored; each secret is single use; a new one voids the previous; codes die
 * after `maxAttempts` wrong tries; a cooldown per (purpose, target) limits resends. The code or
 * link and its message are written in one transaction.
 */
@Injectable()
export class VerificationService implements OnModuleDestroy {
  private readonly logger = new Logger('Verification');
  private readonly pending = new Set<Promise<void>>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: Transactions,
    private readonly notifications: NotificationsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Issues a code and/or link and queues its message; throws ResendTooSoon during the cooldown. */
  async issue(request: IssueRequest): Promise<Issued> {
    const settings = this.config.verification;
    const cooldown = request.channel === 'sms' ? settings.smsResendCooldown : settings.emailResendCooldown;
    const { user } = request;
    if (request.hideAccountExistence) {
      // Known and unknown accounts cost the same before the answer: only the cooldown is claimed
      // in the request; the code and its message follow in their own transaction. A failure there
      // is logged, never answered, since only existing accounts could cause one.
      await this.dataSource.transaction((manager) => this.claimCooldown(manager, request, cooldown));
      if (user) this.afterAnswer(() => this.dataSource.transaction((manager) => this.writeSecrets(manager, user, request)));
    } else {
      await this.dataSource.transaction(async (manager) => {
        await this.claimCooldown(manager, request, cooldown);
        if (user) await this.writeSecrets(manager, user, request);
        else if (request.requestedBy) await this.notifications.charge(manager, request.requestedBy.id, request.channel);
      });
      if (user) this.notifications.dispatchSoon();
    }
    return { retryAfterSeconds: cooldown, codeExpiresInSeconds: settings.codeTtl };
  }

  /** Waits for the writes that `issue` left running, so shutdown does not cut them off. */
  async onModuleDestroy(): Promise<void> {
    await this.settled();
  }

  /** Resolves once every write that `issue` left running after its answer is done (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Runs `work` once the current answer has gone out (setImmediate: after this turn's I/O). */
  private afterAnswer(work: () => Promise<void>): void {
    const tracked = new Promise<void>((resolve) => setImmediate(resolve))
      .then(work)
      .then(() => this.notifications.dispatchSoon())
      .catch((err: Error) => {
        // At the account's message cap nothing is sent; the caller got the same answer as everyone else.
        if (err instanceof DomainError && err.kind === 'RateLimited') this.logger.warn({ reason: err.message }, 'message cap reached: no code sent');
        else this.logger.error({ err }, 'could not store a code and its message');
      })
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  /** The code and/or link, and the message that carries them: one transaction (`manager`). */
  private async writeSecrets(manager: EntityManager, user: User, request: IssueRequest): Promise<void> {
    const { purpose, channel, target } = request;
    const settings = this.config.verification;
    // A new secret voids the ones sent before for this purpose and address.
    await manager.query(`UPDATE verification_secrets SET consumed_at = now() WHERE user_id = $1 AND purpose = $2 AND target = $3 AND consumed_at IS NULL`, [
      user.id,
      purpose,
      target,
    ]);
    const params: TemplateParams = {};
    if (request.code) {
      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      await this.insertSecret(manager, user.id, purpose, 'code', target, hashCode(purpose, user.id, code), settings.codeTtl);
      Object.assign(params, { code, codeMinutes: Math.ceil(settings.codeTtl / 60) });
    }
    if (request.link) {
      const token = randomBytes(32).toString('base64url');
      const ttl = this.linkTtl(purpose);
      await this.insertSecret(manager, user.id, purpose, 'link', target, sha256(token), ttl);
      Object.assign(params, { link: request.link(token), linkMinutes: Math.ceil(ttl / 60) });
    }
    // Asked for by the caller: at the account's message cap the request is refused (and this transaction undone).
    await this.notifications.enqueue(manager, {
      userId: user.id,
      channel,
      to: target,
      template: purpose,
      locale: request.locale,
      params,
      whenCapped: 'refuse',
    });
  }

  /**
   * Uses the live code of (user, purpose, target), or of (user, purpose) when no target is given,
   * and returns the address it was sent to. A wrong code costs one try; the last try voids it. A
   * right one runs `beforeUse` (which may refuse, leaving the code usable) and is used up together
   * with every other live secret of that purpose.
   */
  async consumeCode({ userId, purpose, target, code }: CodeCheck, beforeUse?: (target: string) => void): Promise<string> {
    const presented = hashCode(purpose, userId, CODE_FORMAT.test(code) ? code : '');
    const outcome = await this.transactions.run(async (tx) => {
      // One statement finds the live code, and counts a wrong try (voiding the code on the last one):
      // a wrong code costs the same round trips as a lookup that finds nothing (an unknown account),
      // so the time of the answer tells nothing (SPEC §9 rule 8). Nor does the commit: without
      // waiting for the WAL flush, a transaction that wrote answers as fast as one that did not
      // (a crash may at worst forget the last few tries).
      await tx.query('SET LOCAL synchronous_commit = off');
      const [live] = await tx.query(
        `WITH live AS (
           SELECT id, target, secret_hash = $4 AS matches FROM verification_secrets
           WHERE user_id = $1 AND purpose = $2 AND ($3::varchar IS NULL OR target = $3) AND kind = 'code'
             AND consumed_at IS NULL AND expires_at > now()
           ORDER BY created_at DESC LIMIT 1
           FOR UPDATE),
         wrong AS (
           UPDATE verification_secrets v SET attempts = v.attempts + 1,
             consumed_at = CASE WHEN v.attempts + 1 >= $5 THEN now() ELSE v.consumed_at END
           FROM live WHERE v.id = live.id AND NOT live.matches
           RETURNING v.id)
         SELECT live.target, live.matches FROM live`,
        [userId, purpose, target ?? null, presented, this.config.verification.maxAttempts],
      );
      if (!live?.matches) return null;
      beforeUse?.(live.target);
      await this.useUp(tx, userId, purpose);
      return live.target as string;
    });
    if (outcome === null) throw new DomainError('InvalidCode', INVALID_CODE);
    return outcome;
  }

  /**
   * SPEC §9 rule 1: a secret proves one address at one moment. Called in the same transaction as
   * a change of the user's e-mail, phone or password: every outstanding code and link dies. The
   * "this wasn't me" links survive: they must still undo the change that sent them.
   */
  async voidAll(tx: Tx, userId: string): Promise<void> {
    await tx.query(`UPDATE verification_secrets SET consumed_at = now() WHERE user_id = $1 AND consumed_at IS NULL AND purpose <> 'email-change-revert'`, [
      userId,
    ]);
  }

  /** A link token of `purpose` for `target`, stored hashed in `tx`; the caller puts it in a message. */
  async createLink(tx: Tx, userId: string, purpose: VerificationPurpose, target: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await this.insertSecret(tx, userId, purpose, 'link', target, sha256(token), this.linkTtl(purpose));
    return token;
  }

  /** How long a link of `purpose` lives, in minutes (for the message that carries it). */
  linkMinutes(purpose: VerificationPurpose): number {
    return Math.ceil(this.linkTtl(purpose) / 60);
  }

  /** Uses a link token once; returns whom and which address it proves. */
  async consumeLink(purpose: VerificationPurpose, token: string): Promise<{ userId: string; target: string }> {
    if (!LINK_TOKEN_FORMAT.test(token)) throw new DomainError('InvalidCode', INVALID_CODE);
    return this.dataSource.transaction(async (manager) => {
      const [used] = await queryRows(
        manager,
        `UPDATE verification_secrets SET consumed_at = now()
         WHERE kind = 'link' AND secret_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > now()
         RETURNING user_id, target`,
        [sha256(token), purpose],
      );
      if (!used) throw new DomainError('InvalidCode', INVALID_CODE);
      await this.useUp(manager, used.user_id, purpose);
      return { userId: used.user_id, target: used.target };
    });
  }

  /** Whether a link token is live, without using it (lets a form check it before asking for input). */
  async peekLink(purpose: VerificationPurpose, token: string): Promise<{ userId: string; target: string; expiresAt: Date }> {
    const [live] = LINK_TOKEN_FORMAT.test(token)
      ? await this.dataSource.query(
          `SELECT user_id, target, expires_at FROM verification_secrets
           WHERE kind = 'link' AND secret_hash = $1 AND purpose = $2 AND consumed_at IS NULL AND expires_at > now()`,
          [sha256(token), purpose],
        )
      : [];
    if (!live) throw new DomainError('InvalidCode', INVALID_CODE);
    return { userId: live.user_id, target: live.target, expiresAt: live.expires_at };
  }

  /** Seconds until another message of `purpose` may go to `target` (0 when one may go now). */
  async cooldownLeft(purpose: VerificationPurpose, channel: MessageChannel, target: string): Promise<number> {
    const cooldown = channel === 'sms' ? this.config.verification.smsResendCooldown : this.config.verification.emailResendCooldown;
    const [row] = await this.dataSource.query(
      `SELECT greatest(0, ceil(extract(epoch FROM last_sent_at + $3 * interval '1 second' - now())))::int AS seconds
       FROM send_cooldowns WHERE purpose = $1 AND target = $2`,
      [purpose, target, cooldown],
    );
    return row?.seconds ?? 0;
  }

  private linkTtl(purpose: VerificationPurpose): number {
    const settings = this.config.verification;
    if (purpose === 'email-change-revert') return EMAIL_CHANGE_REVERT_TTL;
    return purpose === 'email-verify' || purpose === 'email-change' ? settings.emailLinkTtl : settings.passwordResetLinkTtl;
  }

  private async insertSecret(
    manager: EntityManager,
    userId: string,
    purpose: VerificationPurpose,
    kind: 'code' | 'link',
    target: string,
    hash: Buffer,
    ttlSeconds: number,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO verification_secrets (user_id, purpose, kind, target, secret_hash, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 second')`,
      [userId, purpose, kind, target, hash, ttlSeconds],
    );
  }

  private async useUp(manager: EntityManager, userId: string, purpose: VerificationPurpose): Promise<void> {
    await manager.query(`UPDATE verification_secrets SET consumed_at = now() WHERE user_id = $1 AND purpose = $2 AND consumed_at IS NULL`, [userId, purpose]);
  }

  /**
   * Records a send for (purpose, target), or throws ResendTooSoon with the seconds left when one
   * happened less than `cooldown` seconds ago. One statement, so parallel requests cannot both pass.
   */
  private async claimCooldown(manager: EntityManager, { purpose, target }: IssueRequest, cooldown: number): Promise<void> {
    const claimed = await queryRows(
      manager,
      `INSERT INTO send_cooldowns (purpose, target, last_sent_at) VALUES ($1, $2, now())
       ON CONFLICT (purpose, target) DO UPDATE SET last_sent_at = now()
         WHERE send_cooldowns.last_sent_at <= now() - $3 * interval '1 second'
       RETURNING 1`,
      [purpose, target, cooldown],
    );
    if (claimed.length > 0) return;
    const [{ seconds }] = await manager.query(
      `SELECT ceil(extract(epoch FROM last_sent_at + $3 * interval '1 second' - now()))::int AS seconds
       FROM send_cooldowns WHERE purpose = $1 AND target = $2`,
      [purpose, target, cooldown],
    );
    const wait = Math.max(1, seconds);
    throw new DomainError('ResendTooSoon', `a message was sent recently; try again in ${wait} s`, { retryAfterSeconds: wait });
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Bound to purpose and user, so a stored hash says nothing about any other code. */
function hashCode(purpose: VerificationPurpose, userId: string, code: string): Buffer {
  return sha256(`${purpose}:${userId}:${code}`);
}
