import { ChangeListener, ChangeSubscriber } from '../database/change-listener';
import { User } from '../users/user.entity';
import { AUTH_CACHE_LIMIT, AuthCache } from './auth-cache';

const SESSION = 'session-a';
const USER = 'user-a';
const LATER = new Date(Date.now() + 3_600_000);

function user(overrides: Partial<User> = {}): User {
  return Object.assign(new User(), { id: USER, name: 'Anna', role: 'user', status: 'active', ...overrides });
}

/** An AuthCache with a listener stub the test drives. */
function setUp(): { cache: AuthCache; listener: ChangeSubscriber } {
  let subscriber!: ChangeSubscriber;
  const cache = new AuthCache({ subscribe: (s: ChangeSubscriber) => (subscriber = s) } as unknown as ChangeListener);
  subscriber.reset(true);
  return { cache, listener: subscriber };
}

function load(cache: AuthCache, found: User | undefined = user(), sessionId = SESSION, expires = LATER): void {
  cache.finishRead(cache.beginRead(), sessionId, found && { user: found, sessionExpiresAt: expires });
}

describe('AuthCache', () => {
  it('serves a session it read, until a change of that session or its user arrives', () => {
    const { cache, listener } = setUp();
    load(cache);
    expect(cache.get(SESSION, USER)?.name).toBe('Anna');
    listener.changed([`session:${SESSION}`]);
    expect(cache.get(SESSION, USER)).toBeUndefined();

    load(cache);
    listener.changed([`user:${USER}`]);
    expect(cache.get(SESSION, USER)).toBeUndefined();
  });

  it('does not serve a session for another user id than the one it was read for', () => {
    const { cache } = setUp();
    load(cache);
    expect(cache.get(SESSION, 'user-b')).toBeUndefined();
  });

  it('does not store a read that raced a change of its keys (the read may predate the change)', () => {
    const { cache, listener } = setUp();
    for (const key of [`session:${SESSION}`, `user:${USER}`]) {
      const ticket = cache.beginRead();
      listener.changed([key]); // committed while the read was on its way
      cache.finishRead(ticket, SESSION, { user: user(), sessionExpiresAt: LATER });
      expect(cache.get(SESSION, USER)).toBeUndefined();
    }
    // A change of another key does not stop it.
    const ticket = cache.beginRead();
    listener.changed(['session:another', 'user:another']);
    cache.finishRead(ticket, SESSION, { user: user(), sessionExpiresAt: LATER });
    expect(cache.get(SESSION, USER)).toBeDefined();
  });

  it('does not store a read that began before the listener was lost or re-subscribed', () => {
    const { cache, listener } = setUp();
    const before = cache.beginRead();
    listener.reset(false);
    listener.reset(true);
    cache.finishRead(before, SESSION, { user: user(), sessionExpiresAt: LATER });
    expect(cache.get(SESSION, USER)).toBeUndefined();
  });

  it('serves nothing and stores nothing while the listener is down, and forgets everything on reset', () => {
    const { cache, listener } = setUp();
    load(cache);
    listener.reset(false);
    expect(cache.get(SESSION, USER)).toBeUndefined();
    load(cache);
    expect(cache.stats()).toMatchObject({ live: false, sessions: 0, users: 0 });
    listener.reset(true);
    expect(cache.get(SESSION, USER)).toBeUndefined();
  });

  it('a flush (reset while live) forgets everything', () => {
    const { cache, listener } = setUp();
    load(cache);
    listener.reset(true);
    expect(cache.get(SESSION, USER)).toBeUndefined();
  });

  it('treats a session past its expires_at as a miss (expiry is time, not a change)', () => {
    const { cache } = setUp();
    const expires = new Date(Date.now() + 1000);
    load(cache, user(), SESSION, expires);
    expect(cache.get(SESSION, USER, expires.getTime() - 1)).toBeDefined();
    expect(cache.get(SESSION, USER, expires.getTime())).toBeUndefined();
  });

  it('hands out copies: a caller changing its user does not change the cache', () => {
    const { cache } = setUp();
    const read = user();
    load(cache, read);
    read.name = 'changed after the read';
    const first = cache.get(SESSION, USER)!;
    first.role = 'administrator';
    expect(cache.get(SESSION, USER)).toMatchObject({ name: 'Anna', role: 'user' });
    expect(first).toBeInstanceOf(User);
  });

  it('forgets everything on a key of a kind it does not know (a newer version announcing more)', () => {
    const { cache, listener } = setUp();
    load(cache);
    listener.changed(['credential:x']);
    expect(cache.get(SESSION, USER)).toBeUndefined();
  });

  it('holds at most AUTH_CACHE_LIMIT entries, dropping the oldest', () => {
    const { cache } = setUp();
    for (let i = 0; i <= AUTH_CACHE_LIMIT; i++) load(cache, user({ id: `user-${i}` }), `session-${i}`);
    expect(cache.stats()).toMatchObject({ sessions: AUTH_CACHE_LIMIT, users: AUTH_CACHE_LIMIT });
    expect(cache.get('session-0', 'user-0')).toBeUndefined();
    expect(cache.get(`session-${AUTH_CACHE_LIMIT}`, `user-${AUTH_CACHE_LIMIT}`)).toBeDefined();
  });
});
