import { createHash } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditLog } from '../audit/audit-log.service';
import { AppConfig } from '../config/app-config';
import { Transactions, Tx } from '../database/transactions';
import { DomainError, DomainErrorKind } from '../common/domain-error';
import { User } from '../users/user.entity';
import { RefreshToken } from './refresh-token.entity';
import { Session } from './session.entity';
import { AuthCache } from './auth-cache';
import { ChangeListener } from '../database/change-listener';
import { LiveSession, LockedSession, RotatedSession, SessionsRepository } from './sessions.repository';
import { SessionsService } from './sessions.service';
import { IssuedAccessToken, TokenService } from './token.service';

const CONFIG = { accessTokenTtl: 900, refreshTokenTtl: 86400, rememberMeTtl: 2592000, refreshReuseGraceSeconds: 5 } as AppConfig;
const T0 = new Date('2030-01-01T00:00:00.000Z');

/**
 * SessionsRepository over Maps. Like the database, `withLockedSessionOfToken` hands the work a
 * copy of the session row: only what goes through `manager.update` is stored.
 */
class InMemorySessionsRepository {
  constructor(private readonly users: Map<string, User>) {}

  readonly sessions = new Map<string, Session>();
  readonly tokens = new Map<string, RefreshToken>();
  readonly updates: Array<{ id: string; values: Partial<Session> }> = [];
  readonly findLiveSessionUser = jest.fn(async (_sessionId: string, _userId: string): Promise<LiveSession | null> => null);
  private nextId = 1;

  readonly manager = {
    update: async (entity: unknown, criteria: { id: string }, values: Partial<Session>) => {
      if (entity !== Session) throw new Error('the fake manager only updates sessions');
      const stored = this.sessions.get(criteria.id);
      if (!stored) throw new Error(`no session ${criteria.id}`);
      this.updates.push({ id: criteria.id, values });
      Object.assign(stored, values);
      return { affected: 1 };
    },
  };

  readonly events: unknown[][] = [];

  async create(data: Partial<Session>, tokenHash: Buffer, eventRow: unknown[]): Promise<Session> {
    this.events.push(eventRow);
    const session = {
      id: `session-${this.nextId++}`,
      refreshGeneration: 0,
      rotatedAt: null,
      revokedAt: null,
      revokedReason: null,
      createdAt: new Date(),
      ...data,
    } as Session;
    this.sessions.set(session.id, session);
    this.tokens.set(tokenHash.toString('hex'), { tokenHash, sessionId: session.id, generation: 0 } as RefreshToken);
    return { ...session };
  }

  /** Like the single statement: rotates only the current token of a live session of an active user. */
  async rotateCurrent(presentedHash: Buffer, nextHash: Buffer, now: Date, expiry: { remembered: Date; normal: Date }): Promise<RotatedSession | null> {
    const token = this.tokens.get(presentedHash.toString('hex'));
    const session = token && this.sessions.get(token.sessionId);
    const user = session && this.users.get(session.userId);
    if (!token || !session || !user || user.status !== 'active') return null;
    if (token.generation !== session.refreshGeneration || session.revokedAt || session.expiresAt <= now) return null;
    const values = {
      refreshGeneration: session.refreshGeneration + 1,
      rotatedAt: now,
      lastUsedAt: now,
      expiresAt: session.remember ? expiry.remembered : expiry.normal,
    };
    this.updates.push({ id: session.id, values });
    Object.assign(session, values);
    this.tokens.set(nextHash.toString('hex'), { tokenHash: nextHash, sessionId: session.id, generation: session.refreshGeneration } as RefreshToken);
    return { session: { ...session }, role: user.role };
  }

  async withLockedSessionOfToken<T>(tokenHash: Buffer, work: (found: LockedSession | null, manager: EntityManager) => Promise<T>): Promise<T> {
    const token = this.tokens.get(tokenHash.toString('hex'));
    const session = token && this.sessions.get(token.sessionId);
    const found = token && session ? { token: { ...token }, session: { ...session }, user: this.users.get(session.userId) ?? null } : null;
    return work(found, this.manager as unknown as EntityManager);
  }

  async hasRefreshToken(manager: unknown, sessionId: string, generation: number, tokenHash: Buffer): Promise<boolean> {
    if (manager !== this.manager) throw new Error('refresh token read outside the transaction');
    const token = this.tokens.get(tokenHash.toString('hex'));
    return !!token && token.sessionId === sessionId && token.generation === generation;
  }

  async addRefreshToken(manager: unknown, sessionId: string, generation: number, tokenHash: Buffer): Promise<void> {
    if (manager !== this.manager) throw new Error('refresh token written outside the transaction');
    this.tokens.set(tokenHash.toString('hex'), { tokenHash, sessionId, generation } as RefreshToken);
  }

  /** The stored row (what the database holds). */
  row(id: string): Session {
    const session = this.sessions.get(id);
    if (!session) throw new Error(`no session ${id}`);
    return session;
  }
}

class FakeTokenService {
  readonly signed: Array<{ subject: { userId: string; role: string; sessionId: string }; ttlSeconds: number; notAfter?: Date }> = [];

  refreshTokenFor(sessionId: string, generation: number): string {
    return `refresh-${sessionId}-${generation}`;
  }

  nextRefreshToken(presented: string): string {
    return `${presented}+`;
  }

  hashRefreshToken(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }

  signAccessToken(subject: { userId: string; role: string; sessionId: string }, ttlSeconds: number, notAfter?: Date): IssuedAccessToken {
    this.signed.push({ subject, ttlSeconds, notAfter });
    return { token: 'a', expiresIn: 1, expiresAt: new Date() };
  }
}

/** The key under which the fake repository stores a token: its SHA-256, as the database does. */
function stored(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** An AuthCache whose listener is not subscribed: every check reads the repository. */
function cacheOff(): AuthCache {
  return new AuthCache({ subscribe: (subscriber: AuthCache) => subscriber.reset(false) } as unknown as ChangeListener);
}

function makeUser(overrides: Partial<User> = {}): User {
  return { id: 'user-1', role: 'user', status: 'active', ...overrides } as User;
}

async function rejectionKind(promise: Promise<unknown>): Promise<DomainErrorKind> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  return (error as DomainError).kind;
}

describe('SessionsService', () => {
  let repo: InMemorySessionsRepository;
  let tokens: FakeTokenService;
  let users: Map<string, User>;
  let service: SessionsService;
  let audit: { record: jest.Mock; rowOf: jest.Mock; written: jest.Mock };

  beforeEach(() => {
    audit = { record: jest.fn().mockResolvedValue(undefined), rowOf: jest.fn((event: { type: string }) => [event.type]), written: jest.fn() };
    jest.useFakeTimers({ now: T0 });
    users = new Map([['user-1', makeUser()]]);
    repo = new InMemorySessionsRepository(users);
    tokens = new FakeTokenService();
    service = new SessionsService(
      repo as unknown as SessionsRepository,
      tokens as unknown as TokenService,
      CONFIG,
      audit as unknown as AuditLog,
      { run: (work: (tx: Tx) => Promise<unknown>) => work(repo.manager as unknown as Tx) } as unknown as Transactions,
      cacheOff(),
    );
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  const advance = (ms: number) => jest.setSystemTime(Date.now() + ms);

  /** Signs user-1 in and returns the session id and its first refresh token. */
  async function signIn(remember = false): Promise<{ sessionId: string; token0: string }> {
    const started = await service.start(makeUser(), { remember });
    return { sessionId: started.session.id, token0: started.refreshToken };
  }

  describe('start', () => {
    it('writes the sign-in event with the session (one statement) and tells the observers after', async () => {
      const { sessionId } = await signIn(true);
      expect(audit.rowOf).toHaveBeenCalledWith(
        expect.objectContaining({ type: 'sign_in.succeeded', userId: 'user-1', sessionId, details: { method: 'password', amr: ['pwd'], remember: true } }),
      );
      expect(repo.events).toEqual([['sign_in.succeeded']]);
      expect(audit.written).toHaveBeenCalledWith(audit.rowOf.mock.calls[0][0]);
    });

    it('stores only the hash of the refresh token it returns, as generation 0', async () => {
      const { sessionId, token0 } = await signIn();
      expect(repo.tokens.get(stored(token0))).toMatchObject({ sessionId, generation: 0 });
    });

    it('makes the session last REFRESH_TOKEN_TTL, or REMEMBER_ME_TTL when remember is set', async () => {
      const normal = await signIn(false);
      const remembered = await signIn(true);
      expect(repo.row(normal.sessionId).expiresAt).toEqual(new Date(T0.getTime() + 86400_000));
      expect(repo.row(remembered.sessionId).expiresAt).toEqual(new Date(T0.getTime() + 2592000_000));
    });

    it('gives the access token ACCESS_TOKEN_TTL, or the session lifetime for surfaces without refresh', async () => {
      await service.start(makeUser());
      await service.start(makeUser(), { accessLivesAsLongAsSession: true });
      await service.start(makeUser(), { accessLivesAsLongAsSession: true, remember: true });
      expect(tokens.signed.map((call) => call.ttlSeconds)).toEqual([900, 86400, 2592000]);
    });
  });

  describe('refresh with the current token', () => {
    it('rotates: a new refresh token, generation + 1, rotatedAt now', async () => {
      const { sessionId, token0 } = await signIn();
      advance(1000);

      const result = await service.refresh(token0);

      expect(result.refreshToken).not.toBe(token0);
      expect(result.session.refreshGeneration).toBe(1);
      expect(repo.row(sessionId)).toMatchObject({ refreshGeneration: 1, rotatedAt: new Date(T0.getTime() + 1000), revokedAt: null });
      expect(repo.tokens.get(stored(result.refreshToken))).toMatchObject({ sessionId, generation: 1 });
    });

    it('issues an access token for the session with ACCESS_TOKEN_TTL', async () => {
      const { sessionId, token0 } = await signIn();
      tokens.signed.length = 0;

      const result = await service.refresh(token0);

      expect(result.access.token).toBe('a');
      expect(tokens.signed).toEqual([
        {
          subject: { userId: 'user-1', role: 'user', sessionId, authTime: repo.row(sessionId).createdAt, amr: ['pwd'], aal: 1 },
          ttlSeconds: 900,
          notAfter: repo.row(sessionId).expiresAt,
        },
      ]);
    });

    it('slides the session expiry forward', async () => {
      const { sessionId, token0 } = await signIn();
      advance(3600_000);

      await service.refresh(token0);

      expect(repo.row(sessionId).expiresAt).toEqual(new Date(T0.getTime() + 3600_000 + 86400_000));
    });

    it('lets the new token rotate again', async () => {
      const { sessionId, token0 } = await signIn();
      const first = await service.refresh(token0);
      advance(10_000);

      const second = await service.refresh(first.refreshToken);

      expect(second.session.refreshGeneration).toBe(2);
      expect(repo.row(sessionId).refreshGeneration).toBe(2);
    });
  });

  describe('reuse of the previous token', () => {
    it('within 5 s of the rotation gets the token that rotation issued and a fresh access token, storing nothing', async () => {
      const { sessionId, token0 } = await signIn();
      const rotated = await service.refresh(token0);
      const tokensBefore = new Map(repo.tokens);
      tokens.signed.length = 0;
      advance(2000);

      const retry = await service.refresh(token0);

      expect(retry.refreshToken).toBe(rotated.refreshToken);
      expect(retry.session.refreshGeneration).toBe(1);
      expect(tokens.signed).toEqual([
        {
          subject: { userId: 'user-1', role: 'user', sessionId, authTime: repo.row(sessionId).createdAt, amr: ['pwd'], aal: 1 },
          ttlSeconds: 900,
          notAfter: repo.row(sessionId).expiresAt,
        },
      ]);
      expect(repo.row(sessionId)).toMatchObject({ refreshGeneration: 1, rotatedAt: T0, revokedAt: null });
      expect(repo.tokens).toEqual(tokensBefore);
    });

    it('answers a retry of a rotation made by the earlier scheme (tokens from the session id and generation) with the token of that rotation', async () => {
      const { sessionId, token0 } = await signIn();
      // The rotation as the version before chained tokens did it: generation 1's token from the session id.
      const row = repo.row(sessionId);
      Object.assign(row, { refreshGeneration: 1, rotatedAt: T0 });
      const earlier = tokens.refreshTokenFor(sessionId, 1);
      repo.tokens.set(stored(earlier), { tokenHash: tokens.hashRefreshToken(earlier), sessionId, generation: 1 } as RefreshToken);
      advance(2000);

      const retry = await service.refresh(token0);

      expect(retry.refreshToken).toBe(earlier);
      await expect(service.refresh(retry.refreshToken)).resolves.toMatchObject({ session: { refreshGeneration: 2 } });
    });

    it('never stores a token in plaintext: only the SHA-256 of each token handed out is a key', async () => {
      const { token0 } = await signIn();
      const rotated = await service.refresh(token0);
      await service.refresh(token0);

      expect([...repo.tokens.keys()].sort()).toEqual([stored(token0), stored(rotated.refreshToken)].sort());
    });

    it('within the grace window hands out a token that rotates like the current one', async () => {
      const { token0 } = await signIn();
      await service.refresh(token0);
      const retry = await service.refresh(token0);

      await expect(service.refresh(retry.refreshToken)).resolves.toMatchObject({ session: { refreshGeneration: 2 } });
    });

    it('within the grace window leaves the token of the rotation current', async () => {
      const { token0 } = await signIn();
      const rotated = await service.refresh(token0);
      await service.refresh(token0);

      await expect(service.refresh(rotated.refreshToken)).resolves.toMatchObject({ session: { refreshGeneration: 2 } });
    });

    it('after 5 s revokes the session for token reuse and throws InvalidRefreshToken', async () => {
      const { sessionId, token0 } = await signIn();
      await service.refresh(token0);
      advance(5001);

      expect(await rejectionKind(service.refresh(token0))).toBe('InvalidRefreshToken');
      expect(repo.row(sessionId).revokedAt).toEqual(new Date(T0.getTime() + 5001));
      expect(repo.row(sessionId).revokedReason).toBe('refresh_token_reuse');
    });

    it('after the revocation, the current token no longer works either', async () => {
      const { token0 } = await signIn();
      const rotated = await service.refresh(token0);
      advance(6000);
      await rejectionKind(service.refresh(token0));

      expect(await rejectionKind(service.refresh(rotated.refreshToken))).toBe('InvalidRefreshToken');
    });

    it('does not get a longer window by retrying within it', async () => {
      const { sessionId, token0 } = await signIn();
      await service.refresh(token0);
      advance(4000);
      await service.refresh(token0); // in grace
      advance(4000); // 8 s after the rotation

      expect(await rejectionKind(service.refresh(token0))).toBe('InvalidRefreshToken');
      expect(repo.row(sessionId).revokedReason).toBe('refresh_token_reuse');
    });
  });

  it('revokes the session when a token two generations old is reused, even inside the grace window', async () => {
    const { sessionId, token0 } = await signIn();
    const first = await service.refresh(token0);
    advance(500);
    await service.refresh(first.refreshToken);
    advance(500);

    expect(await rejectionKind(service.refresh(token0))).toBe('InvalidRefreshToken');
    expect(repo.row(sessionId).revokedReason).toBe('refresh_token_reuse');
    expect(repo.row(sessionId).revokedAt).not.toBeNull();
  });

  it('rejects an unknown token with InvalidRefreshToken and touches no session', async () => {
    const { sessionId } = await signIn();

    expect(await rejectionKind(service.refresh('never-issued'))).toBe('InvalidRefreshToken');
    expect(repo.updates).toEqual([]);
    expect(repo.row(sessionId)).toMatchObject({ revokedAt: null, refreshGeneration: 0 });
  });

  it('rejects the token of a revoked session without rotating or re-revoking', async () => {
    const { sessionId, token0 } = await signIn();
    const revokedAt = new Date(T0.getTime() - 1000);
    Object.assign(repo.row(sessionId), { revokedAt, revokedReason: 'logout' });
    const tokensBefore = repo.tokens.size;

    expect(await rejectionKind(service.refresh(token0))).toBe('InvalidRefreshToken');
    expect(repo.row(sessionId)).toMatchObject({ revokedAt, revokedReason: 'logout', refreshGeneration: 0 });
    expect(repo.tokens.size).toBe(tokensBefore);
  });

  it('rejects the token of an expired session', async () => {
    const { sessionId, token0 } = await signIn();
    advance(86400_000);

    expect(await rejectionKind(service.refresh(token0))).toBe('InvalidRefreshToken');
    expect(repo.row(sessionId).refreshGeneration).toBe(0);
  });

  it('rejects a blocked user with AccountBlocked, without rotating', async () => {
    const { token0 } = await signIn();
    users.set('user-1', makeUser({ status: 'blocked' }));

    expect(await rejectionKind(service.refresh(token0))).toBe('AccountBlocked');
    expect(repo.updates).toEqual([]);
    expect(repo.tokens.size).toBe(1);
  });

  it('rejects the token of a deleted user with InvalidRefreshToken', async () => {
    const { token0 } = await signIn();
    users.delete('user-1');

    expect(await rejectionKind(service.refresh(token0))).toBe('InvalidRefreshToken');
  });

  describe('authenticate', () => {
    const SESSION = '6b0e1f1e-8a4c-4b7e-9d51-2f3a4b5c6d7e';
    const USER = '0c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
    const live = (user: User): LiveSession => ({ user, sessionExpiresAt: new Date(T0.getTime() + 60_000) });

    it('returns the user and session of a live session', async () => {
      const user = makeUser({ id: USER });
      repo.findLiveSessionUser.mockResolvedValue(live(user));

      const signedInAt = new Date(T0.getTime() - 60_000);
      await expect(service.authenticate(SESSION, USER, signedInAt)).resolves.toEqual({ user, sessionId: SESSION, authTime: signedInAt, aal: 1 });
      expect(repo.findLiveSessionUser).toHaveBeenCalledWith(SESSION, USER);
    });

    it('throws SessionRevoked when the repository finds no live session', async () => {
      repo.findLiveSessionUser.mockResolvedValue(null);

      expect(await rejectionKind(service.authenticate(SESSION, USER))).toBe('SessionRevoked');
    });

    it('throws SessionRevoked without a query for ids that are not UUIDs (claims of a token signed with our key, but not by us)', async () => {
      expect(await rejectionKind(service.authenticate('session-1', USER))).toBe('SessionRevoked');
      expect(await rejectionKind(service.authenticate(SESSION, "1' OR '1'='1"))).toBe('SessionRevoked');
      expect(repo.findLiveSessionUser).not.toHaveBeenCalled();
    });

    it('throws AccountBlocked for a blocked user', async () => {
      repo.findLiveSessionUser.mockResolvedValue(live(makeUser({ id: USER, status: 'blocked' })));

      expect(await rejectionKind(service.authenticate(SESSION, USER))).toBe('AccountBlocked');
    });
  });
});
