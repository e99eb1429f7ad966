import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { DomainError } from '../common/domain-error';
import { Tx } from '../database/transactions';
import { isUuid } from '../common/identifiers';
import { User } from '../users/user.entity';
import { AuthCache } from './auth-cache';
import { Session } from './session.entity';
import { SessionsRepository } from './sessions.repository';
import { IssuedAccessToken, TokenService } from './token.service';

export interface ClientInfo {
  userAgent?: string | null;
  ip?: string | null;
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
}

/** The authenticated caller that the guard puts on the request. */
export interface AuthContext {
  user: User;
  sessionId: string;
  /** When this session signed in (not refreshed): the freshness of the proof (SPEC §9 rule 4). */
  authTime: Date;
}

/** Sessions and refresh-token rotation with reuse detection (SPEC §5). */
@Injectable()
export class SessionsService {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly tokens: TokenService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: AuthCache,
  ) {}

  async start(user: User, options: SessionOptions = {}): Promise<SessionTokens> {
    const now = new Date();
    const id = randomUUID(); // known before the insert: the first refresh token is derived from it
    const refreshToken = this.tokens.refreshTokenFor(id, 0);
    const session = await this.sessions.create(
      {
        id,
        userId: user.id,
        remember: !!options.remember,
        userAgent: options.userAgent?.slice(0, 512) ?? null,
        ip: options.ip?.slice(0, 64) ?? null,
        lastUsedAt: now,
        expiresAt: this.expiryFrom(now, !!options.remember),
      },
      this.tokens.hashRefreshToken(refreshToken),
    );
    const ttl = options.accessLivesAsLongAsSession ? this.lifetime(session.remember) : this.config.accessTokenTtl;
    return { session, refreshToken, access: this.accessFor(user, session, ttl) };
  }

  /**
   * Exchanges a refresh token for a new pair. The presented token's generation decides:
   * current → rotate (generation + 1); the previous one within the grace window (parallel tabs)
   * → the token that rotation issued, re-derived, with a fresh access token, so the session never
   * has more than one live refresh token; anything else → theft: the whole session is revoked.
   * The next token is derived from the presented one (`nextRefreshToken`), so both the rotation
   * and a grace retry hand out the same token.
   */
  async refresh(refreshToken: string): Promise<SessionTokens> {
    const presentedHash = this.tokens.hashRefreshToken(refreshToken);
    const liveToken = this.tokens.nextRefreshToken(refreshToken);
    const liveHash = this.tokens.hashRefreshToken(liveToken);
    const at = new Date();

    // The common case (the current token of a live session, active user): one statement.
    const rotated = await this.sessions.rotateCurrent(presentedHash, liveHash, at, { remembered: this.expiryFrom(at, true), normal: this.expiryFrom(at, false) });
    if (rotated) {
      const { session, role } = rotated;
      const access = this.tokens.signAccessToken({ userId: session.userId, role, sessionId: session.id, authTime: session.createdAt }, this.config.accessTokenTtl, session.expiresAt);
      return { session, refreshToken: liveToken, access };
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
      const retryInGrace =
        token.generation === session.refreshGeneration - 1 && !!session.rotatedAt && now.getTime() - session.rotatedAt.getTime() <= graceMs;
      if (!current && !retryInGrace) {
        await manager.update(Session, { id: session.id }, { revokedAt: now, revokedReason: 'refresh_token_reuse' });
        return { error: 'reuse' as const };
      }
      if (current) {
        session.refreshGeneration += 1;
        session.rotatedAt = now;
        session.expiresAt = this.expiryFrom(now, session.remember); // sliding: active sessions stay signed in
      }
      session.lastUsedAt = now;
      await manager.update(Session, { id: session.id }, {
        refreshGeneration: session.refreshGeneration,
        rotatedAt: session.rotatedAt,
        expiresAt: session.expiresAt,
        lastUsedAt: now,
      });
      // A grace retry stores nothing: the rotation's token (derived from the same presented token) is
      // already the session's only live one.
      if (current) await this.sessions.addRefreshToken(manager, session.id, session.refreshGeneration, liveHash);
      return { session, user, refreshToken: liveToken };
    });

    if ('error' in outcome) {
      if (outcome.error === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
      throw new DomainError('InvalidRefreshToken', outcome.error === 'reuse' ? 'refresh token was already used; the session is revoked' : 'refresh token is invalid or expired');
    }
    return { session: outcome.session, refreshToken: outcome.refreshToken, access: this.accessFor(outcome.user, outcome.session, this.config.accessTokenTtl) };
  }

  /**
   * The hot path: the session's validity and its user, from this instance's cache (no database
   * round trip) or, on a miss, from one prepared read that then fills the cache (see AuthCache for
   * why that is coherent).
   */
  async authenticate(sessionId: string, userId: string, authTime = new Date(0)): Promise<AuthContext> {
    const user = isUuid(sessionId) && isUuid(userId) ? (this.cache.get(sessionId, userId) ?? (await this.readLiveSession(sessionId, userId))) : null;
    if (!user) throw new DomainError('SessionRevoked', 'the session has ended; sign in again');
    if (user.status === 'blocked') throw new DomainError('AccountBlocked', 'this account is blocked');
    return { user, sessionId, authTime };
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

  list(userId: string): Promise<Session[]> {
    return this.sessions.listLive(userId);
  }

  async revoke(userId: string, sessionId: string, reason = 'logout'): Promise<void> {
    if (!(await this.sessions.revoke(userId, sessionId, reason))) {
      throw new DomainError('NotFound', 'no such session');
    }
  }

  /** Ends every session of the user but `keepSessionId`; inside `tx` when the change that causes it has one. */
  revokeOthers(userId: string, keepSessionId: string | undefined, reason: string, tx?: Tx): Promise<number> {
    return this.sessions.revokeAll(userId, reason, keepSessionId, tx);
  }

  private accessFor(user: User, session: Session, ttlSeconds: number): IssuedAccessToken {
    return this.tokens.signAccessToken({ userId: user.id, role: user.role, sessionId: session.id, authTime: session.createdAt }, ttlSeconds, session.expiresAt);
  }

  private lifetime(remember: boolean): number {
    return remember ? this.config.rememberMeTtl : this.config.refreshTokenTtl;
  }

  private expiryFrom(now: Date, remember: boolean): Date {
    return new Date(now.getTime() + this.lifetime(remember) * 1000);
  }
}
