import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.service';
import { EventOrigin, SecurityEvent } from '../audit/security-events';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { SecurityContext, SurfaceName } from '../common/security-context';
import { Transactions, Tx } from '../database/transactions';
import { isUuid } from '../common/identifiers';
import { User } from '../users/user.entity';
import { AuthCache } from './auth-cache';
import { AssuranceLevel, AuthMethod, authTimeOf, Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import { IssuedAccessToken, TokenService } from './token.service';

export interface ClientInfo {
  userAgent?: string | null;
  ip?: string | null;
  /** The surface signed in through (the audit log's `surface`). */
  surface?: SurfaceName | null;
}

export interface SessionTokens {
  session: Session;
  access: IssuedAccessToken;
  refreshToken: string;
}

export interface SessionOptions extends ClientInfo {
  remember?: boolean;
  /**
   * Access tokens of surfaces without refresh live as long as the session (SPEC §5);
   * the others get ACCESS_TOKEN_TTL.
   */
  accessLivesAsLongAsSession?: boolean;
  /** How the user proved who they are (default `pwd`), and the assurance level that gives (default 1). */
  amr?: AuthMethod[];
  aal?: AssuranceLevel;
  /** The app password that opens the session: revoking it ends the session. */
  credentialId?: string | null;
}

/** The authenticated caller that the guard puts on the request. */
export interface AuthContext {
  user: User;
  sessionId: string;
  /** When this session signed in or stepped up (not refreshed): the freshness of the proof (SPEC §9 rule 4). */
  authTime: Date;
  /** The assurance level of that proof: 2 with a second factor (the token's `acr`, `aal2`). */
  aal: AssuranceLevel;
}

/** Sessions and refresh-token rotation with reuse detection (SPEC §5). */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditLog,
    private readonly transactions: Transactions,
    private readonly cache: AuthCache,
  ) {}

  async start(user: User, options: SessionOptions = {}): Promise<SessionTokens> {
    const now = new Date();
    const id = randomUUID(); // known before the insert: the first refresh token is derived from it
    const refreshToken = this.tokens.refreshTokenFor(id, 0);
    const event: SecurityEvent = {
      type: 'sign_in.succeeded',
      userId: user.id,
      sessionId: id,
      context: { ip: options.ip ?? null, userAgent: options.userAgent ?? null, surface: options.surface ?? null },
      details: { method: signInMethodOf(options.amr ?? ['pwd']), amr: options.amr ?? ['pwd'], remember: !!options.remember },
    };
    const session = await this.sessions.create(
      {
        id,
        userId: user.id,
        remember: !!options.remember,
        userAgent: options.userAgent?.slice(0, 512) ?? null,
        ip: options.ip?.slice(0, 64) ?? null,
        lastUsedAt: now,
        expiresAt: this.expiryFrom(now, !!options.remember),
        amr: options.amr ?? ['pwd'],
        aal: options.aal ?? 1,
        credentialId: options.credentialId ?? null,
      },
      this.tokens.hashRefreshToken(refreshToken),
      this.audit.rowOf(event),
    );
    this.audit.written(event);
    const ttl = options.accessLivesAsLongAsSession ? this.lifetime(session.remember) : this.config.accessTokenTtl;
    return { session, refreshToken, access: this.accessFor(user, session, ttl) };
  }

  /**
   * Exchanges a refresh token for a new pair. The presented token's generation decides:
   * current → rotate (generation + 1); the previous one within the grace window (parallel tabs)
   * → the token that rotation issued, re-derived, with a fresh access token, so the session never
   * has more than one live refresh token; anything else → theft: the whole session is revoked.
   * The next token is derived from the presented one (`nextRefreshToken`), so both the rotation
   * and a grace retry hand out the same token, and it is known before anything is read.
   */
  async refresh(refreshToken: string, context?: SecurityContext): Promise<SessionTokens> {
    const presentedHash = this.tokens.hashRefreshToken(refreshToken);
    const liveToken = this.tokens.nextRefreshToken(refreshToken);
    const liveHash = this.tokens.hashRefreshToken(liveToken);
    const at = new Date();

    // The common case (the current token of a live session, active user): one statement.
    const rotated = await this.sessions.rotateCurrent(presentedHash, liveHash, at, {
      remembered: this.expiryFrom(at, true),
      normal: this.expiryFrom(at, false),
    });
    if (rotated) {
      const { session, role } = rotated;
      return { session, refreshToken: liveToken, access: this.accessFor({ id: session.userId, role }, session, this.config.accessTokenTtl) };
    }

    // Everything else, under the session's row lock: unknown, revoked, expired, blocked, a grace retry, reuse.
    const outcome = await this.sessions.withLockedSessionOfToken(presentedHash, async (found, manager) => {
      if (!found) return { error: 'unknown' as const };
      const { token, session, user } = found;
      const now = new Date();
      if (session.revokedAt || session.expiresAt <= now) return { error: 'unknown' as const };
      // Checked before rotating, so a refused refresh changes nothing.
      if (!user) return { error: 'unknown' as const };
      if (user.status === 'blocked') return { error: 'blocked' as const };

      const current = token.generation === session.refreshGeneration;
      const graceMs = this.config.refreshReuseGraceSeconds * 1000;
      const retryInGrace = token.generation === session.refreshGeneration - 1 && !!session.rotatedAt && now.getTime() - session.rotatedAt.getTime() <= graceMs;
      if (!current && !retryInGrace) {
        await manager.update(Session, { id: session.id }, { revokedAt: now, revokedReason: 'refresh_token_reuse' });
        // Whoever presented it is unknown: the owner's old copy, or a thief's.
        await this.audit.record(manager, { type: 'session.refresh_reuse', userId: session.userId, actorId: null, sessionId: session.id, context });
        return { error: 'reuse' as const };
      }
      if (current) {
        session.refreshGeneration += 1;
        session.rotatedAt = now;
        session.expiresAt = this.expiryFrom(now, session.remember); // sliding: active sessions stay signed in
      }
      session.lastUsedAt = now;
      await manager.update(
        Session,
        { id: session.id },
        {
          refreshGeneration: session.refreshGeneration,
          rotatedAt: session.rotatedAt,
          expiresAt: session.expiresAt,
          lastUsedAt: now,
        },
      );
      if (current) {
        await this.sessions.addRefreshToken(manager, session.id, session.refreshGeneration, liveHash);
        return { session, user, refreshToken: liveToken };
      }
      // A grace retry stores nothing: the rotation's token is already the session's only live one.
      // Re-derived from the presented token; a rotation made before tokens were chained (tokens
      // derived from the session and generation) is answered with that scheme's token.
      const live = await this.sessions.hasRefreshToken(manager, session.id, session.refreshGeneration, liveHash);
      return { session, user, refreshToken: live ? liveToken : this.tokens.refreshTokenFor(session.id, session.refreshGeneration) };
    });

    if ('error' in outcome) {
      if (outcome.error === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
      throw new DomainError(
        'InvalidRefreshToken',
        outcome.error === 'reuse' ? 'refresh token was already used; the session is revoked' : 'refresh token is invalid or expired',
      );
    }
    return { session: outcome.session, refreshToken: outcome.refreshToken, access: this.accessFor(outcome.user, outcome.session, this.config.accessTokenTtl) };
  }

  /**
   * The hot path: the session's validity and its user, from this instance's cache (no database
   * round trip) or, on a miss, from one prepared read that then fills the cache (see AuthCache for
   * why that is coherent). The assurance level is the token's own (`acr`), not the session's.
   */
  async authenticate(sessionId: string, userId: string, authTime = new Date(0), aal: AssuranceLevel = 1): Promise<AuthContext> {
    const user = isUuid(sessionId) && isUuid(userId) ? (this.cache.get(sessionId, userId) ?? (await this.readLiveSession(sessionId, userId))) : null;
    if (!user) throw new DomainError('SessionRevoked', 'the session has ended; sign in again');
    if (user.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
    return { user, sessionId, authTime, aal };
  }

  private async readLiveSession(sessionId: string, userId: string): Promise<User | null> {
    const ticket = this.cache.beginRead();
    let found: Awaited<ReturnType<SessionsRepository['findLiveSessionUser']>> = null;
    try {
      found = await this.sessions.findLiveSessionUser(sessionId, userId);
    } finally {
      this.cache.finishRead(ticket, sessionId, found ?? undefined);
    }
    return found?.user ?? null;
  }

  /**
   * A second factor was just proved on this live session (step-up): it is aal2 as of now, and a new
   * access token says so (later refreshes carry the same `auth_time` and `acr`).
   */
  async stepUp(user: User, sessionId: string, method: AuthMethod): Promise<{ session: Session; access: IssuedAccessToken }> {
    const session = await this.sessions.stepUp(user.id, sessionId, method);
    if (!session) throw new DomainError('SessionRevoked', 'the session has ended; sign in again');
    return { session, access: this.accessFor(user, session, this.config.accessTokenTtl) };
  }

  /** Ends the sessions that these app passwords opened (the password was revoked), with their `session.revoked` event, in `tx`. */
  async revokeOpenedBy(userId: string, credentialIds: string[], reason: string, tx: Tx, origin: EventOrigin = {}): Promise<number> {
    const count = await this.sessions.revokeOpenedBy(userId, credentialIds, reason, tx);
    if (count > 0) await this.recordRevoked(tx, userId, reason, count, origin);
    return count;
  }

  list(userId: string): Promise<Session[]> {
    return this.sessions.listLive(userId);
  }

  async revoke(userId: string, sessionId: string, reason = 'logout', origin: EventOrigin = {}): Promise<void> {
    const revoked = await this.transactions.run(async (tx) => {
      if (!(await this.sessions.revoke(userId, sessionId, reason, tx))) return false;
      const event = { userId, actorId: origin.actorId, sessionId, context: origin.context };
      if (reason === 'logout') await this.audit.record(tx, { ...event, type: 'session.logout' });
      else await this.audit.record(tx, { ...event, type: 'session.revoked', details: { reason, count: 1 } });
      return true;
    });
    if (!revoked) throw new DomainError('NotFound', 'no such session');
  }

  /** Ends every session of the user but `keepSessionId`; inside `tx` when the change that causes it has one. */
  async revokeOthers(userId: string, keepSessionId: string | undefined, reason: string, tx?: Tx, origin: EventOrigin = {}): Promise<number> {
    const work = async (inTx: Tx) => {
      const count = await this.sessions.revokeAll(userId, reason, keepSessionId, inTx);
      if (count > 0) await this.recordRevoked(inTx, userId, reason, count, origin);
      return count;
    };
    return tx ? work(tx) : this.transactions.run(work);
  }

  private recordRevoked(tx: Tx, userId: string, reason: string, count: number, origin: EventOrigin): Promise<void> {
    return this.audit.record(tx, {
      type: 'session.revoked',
      userId,
      actorId: origin.actorId,
      sessionId: origin.sessionId,
      context: origin.context,
      details: { reason, count },
    });
  }

  /** The session's `amr`, `acr` and proof time (a step-up's, else the sign-in's) go into every access token of it. */
  private accessFor(user: Pick<User, 'id' | 'role'>, session: Session, ttlSeconds: number): IssuedAccessToken {
    return this.tokens.signAccessToken(
      { userId: user.id, role: user.role, sessionId: session.id, authTime: authTimeOf(session), amr: session.amr, aal: session.aal },
      ttlSeconds,
      session.expiresAt,
    );
  }

  private lifetime(remember: boolean): number {
    return remember ? this.config.rememberMeTtl : this.config.refreshTokenTtl;
  }

  private expiryFrom(now: Date, remember: boolean): Date {
    return new Date(now.getTime() + this.lifetime(remember) * 1000);
  }
}

/** The first proof of a sign-in, as `sign_in.succeeded` names it (its `amr` has them all: `["pwd","otp"]` after a TOTP step). */
function signInMethodOf(amr: AuthMethod[]): 'password' | 'app_password' | 'passkey' {
  return amr[0] === 'app-password' ? 'app_password' : amr[0] === 'webauthn' ? 'passkey' : 'password';
}
