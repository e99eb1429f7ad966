import { Injectable } from '@nestjs/common';
import { ChangeListener, ChangeSubscriber } from '../database/change-listener';
import { User } from '../users/user.entity';

/**
 * Entries each map may hold (oldest evicted first). A user entry is about 1 KB, so the cache stays
 * under ~40 MB however many sessions are active; a miss costs one prepared query.
 */
export const AUTH_CACHE_LIMIT = 20_000;
/** Changes remembered while reads are in flight; past this, in-flight reads simply do not store. */
const CHANGE_LOG_LIMIT = 10_000;

interface CachedSession {
  userId: string;
  /** The session's `expires_at` (ms): a hit after it is a miss, and the database decides. */
  expiresAt: number;
}

/** A database read in progress (see `beginRead`). */
export interface ReadTicket {
  readonly epoch: number;
  readonly seq: number;
}

export interface AuthCacheStats {
  live: boolean;
  hits: number;
  misses: number;
  sessions: number;
  users: number;
}

/**
 * Per-instance cache of the token check (issue 13): which sessions are live, and their users'
 * profiles, so that `GET /v1/me` with a known token costs no database round trip.
 *
 * Coherence, by construction:
 * - Every committed change of a `sessions`, `users` or `credentials` row is announced by a trigger
 *   (migration CacheInvalidation) and reaches this instance through ChangeListener, which calls
 *   `changed()`; a session key drops that session, a user key drops the user, and since a hit needs
 *   both entries, every cached session of that user too.
 * - While the listener is not subscribed (`reset(false)`), nothing is served or stored: every
 *   request reads the database. Re-subscribing starts from empty (`reset(true)`).
 * - A read that raced a change must not store what it read: `beginRead()` takes a ticket, and
 *   `finishRead()` stores only when no change of those keys (and no reset) arrived since. A change
 *   committed before the read's snapshot arrives after the ticket was taken or before: either way
 *   the stored value is at least as new as the change.
 * - Expiry is time, not a change: a session past its `expires_at` is a miss.
 * - Every hit returns a copy of the user, so a caller that modifies its user cannot corrupt the cache.
 */
@Injectable()
export class AuthCache implements ChangeSubscriber {
  private readonly sessions = new Map<string, CachedSession>();
  private readonly users = new Map<string, Readonly<User>>();
  private live = false;
  /** Bumped by every reset: reads begun before it may not store. */
  private epoch = 0;
  /** Bumped by every changed key. */
  private seq = 0;
  /** key → `seq` of its last change, kept only while reads are in flight. */
  private readonly changedAt = new Map<string, number>();
  private reads = 0;
  private hits = 0;
  private misses = 0;

  constructor(listener: ChangeListener) {
    listener.subscribe(this);
  }

  /** The user of a live cached session, or undefined (then read the database). */
  get(sessionId: string, userId: string, now = Date.now()): User | undefined {
    if (this.live) {
      const session = this.sessions.get(sessionId);
      const user = session && session.userId === userId && session.expiresAt > now ? this.users.get(userId) : undefined;
      if (user) {
        this.hits++;
        return Object.assign(new User(), user);
      }
    }
    this.misses++;
    return undefined;
  }

  beginRead(): ReadTicket {
    this.reads++;
    return { epoch: this.epoch, seq: this.seq };
  }

  /** Ends a read begun with `beginRead` (call it also when the read failed, with `found` undefined). */
  finishRead(ticket: ReadTicket, sessionId: string, found?: { user: User; sessionExpiresAt: Date }): void {
    this.reads--;
    const fresh =
      this.live &&
      ticket.epoch === this.epoch &&
      (this.changedAt.get(`session:${sessionId}`) ?? -1) <= ticket.seq &&
      (!found || (this.changedAt.get(`user:${found.user.id}`) ?? -1) <= ticket.seq);
    if (this.reads === 0) this.changedAt.clear();
    if (!fresh || !found) return;
    remember(this.sessions, sessionId, { userId: found.user.id, expiresAt: found.sessionExpiresAt.getTime() });
    remember(this.users, found.user.id, Object.freeze(Object.assign(new User(), found.user)));
  }

  changed(keys: string[]): void {
    for (const key of keys) {
      this.seq++;
      if (this.reads > 0) {
        this.changedAt.set(key, this.seq);
        if (this.changedAt.size > CHANGE_LOG_LIMIT) {
          this.epoch++; // reads in flight will not store; the log can go
          this.changedAt.clear();
        }
      }
      const colon = key.indexOf(':');
      const kind = key.slice(0, colon);
      const id = key.slice(colon + 1);
      if (kind === 'session') this.sessions.delete(id);
      else if (kind === 'user') this.users.delete(id);
      else return this.reset(this.live); // a kind this version does not know: forget everything
    }
  }

  reset(live: boolean): void {
    this.live = live;
    this.epoch++;
    this.sessions.clear();
    this.users.clear();
    this.changedAt.clear();
  }

  stats(): AuthCacheStats {
    return { live: this.live, hits: this.hits, misses: this.misses, sessions: this.sessions.size, users: this.users.size };
  }
}

/** Map insertion order is age: re-inserting moves a key to the end, the first key is the oldest. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= AUTH_CACHE_LIMIT) map.delete(map.keys().next().value!);
  map.set(key, value);
}
