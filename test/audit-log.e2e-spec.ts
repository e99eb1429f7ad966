import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { expectProblem } from './support/expect';
import { expireLock, setLock } from './support/lockout';
import { codeIn, linkIn } from './support/mail';
import { markContactsVerified, promoteToAdmin, quickUser, registerAndLogin, SignedInUser } from './support/users';
import { VerificationHousekeeping } from '../src/verification/verification-housekeeping.service';

const NEW_PASSWORD = 'A brand-new passphrase 2026';

interface EventRow {
  id: string;
  occurred_at: Date;
  type: string;
  user_id: string | null;
  actor_id: string | null;
  surface: string | null;
  ip: string | null;
  user_agent: string | null;
  session_id: string | null;
  details: Record<string, any>;
}

/**
 * Issue 14's audit log: every security event of every surface lands in `security_events` with who,
 * from where and through which surface, in the same transaction as the change it records; /v1
 * lists them for administrators and for the user; deleting an account keeps its events without
 * personal data; old events are swept.
 */
describe('audit log', () => {
  let t: DeliveryTestApp;
  /** Each test's client address, so the per-IP budgets of one test never touch another's. */
  let ip: string;
  const client = () => ({ headers: { 'x-forwarded-for': ip, 'user-agent': 'audit-test/1.0' } });

  beforeAll(async () => {
    t = await startAppWithDelivery({ TRUST_PROXY: '127.0.0.1', EMAIL_RESEND_COOLDOWN: '0', SMS_RESEND_COOLDOWN: '0', PROFILE_CHANGES_PER_HOUR: '1000' });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    ip = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
  });

  async function eventsOf(userId: string): Promise<EventRow[]> {
    return t.db.query(`SELECT e.*, e.id::text AS id FROM security_events e WHERE user_id = $1 ORDER BY e.id`, [userId]);
  }
  const typesOf = async (userId: string) => (await eventsOf(userId)).map((event) => event.type);
  const last = async (userId: string, type: string) => (await eventsOf(userId)).filter((event) => event.type === type).pop();

  async function register(overrides: Record<string, unknown> = {}): Promise<SignedInUser> {
    return registerAndLogin(t.http, overrides);
  }

  describe('sign-in', () => {
    it('success on every surface: the surface, client IP, user agent and the new session', async () => {
      const user = await register();
      const logins = [
        ['v1', () => t.http.post('/v1/auth/login', { login: user.email, password: user.password }, client())],
        ['001', () => t.http.post('/auth/login', { email_or_name: user.email, password: user.password }, client())],
        ['002', () => t.http.post('/users/auth/token/', { email: user.email, password: user.password }, client())],
        ['003', () => t.http.post('/api/login', { username: user.username, pwd: user.password }, client())],
      ] as const;
      for (const [surface, login] of logins) {
        const res = await login();
        expect(res.status).toBe(200);
        const event = await last(user.id, 'sign_in.succeeded');
        expect(event).toMatchObject({ surface, ip, user_agent: 'audit-test/1.0', actor_id: user.id, details: { method: 'password' } });
        const [session] = await t.db.query(`SELECT id FROM sessions WHERE id = $1`, [event!.session_id]);
        expect(session).toBeDefined();
      }
    });

    it('failures with the reason kind: wrong password, unknown account, blocked, refused during a lockout; the lockout itself', async () => {
      const user = await register();
      expect((await t.http.post('/v1/auth/login', { login: user.email, password: 'wrong password 1' }, client())).status).toBe(401);
      expect(await last(user.id, 'sign_in.failed')).toMatchObject({ surface: 'v1', ip, actor_id: null, details: { reason: 'wrong_password' } });

      const login = `${unique('nobody')}@example.com`;
      expect((await t.http.post('/api/login', { username: login, pwd: 'wrong password 1' }, client())).status).toBe(401);
      const [unknown] = await t.db.query(`SELECT * FROM security_events WHERE type = 'sign_in.failed' AND ip = $1 AND user_id IS NULL`, [ip]);
      expect(unknown).toMatchObject({ surface: '003', details: { reason: 'unknown_account' } });
      // The login typed is never recorded.
      expect(JSON.stringify(await t.db.query(`SELECT * FROM security_events WHERE ip = $1`, [ip]))).not.toContain(login);

      // The tenth failure in a row locks: one sign_in.failed and one account.locked, in the failure's transaction.
      await setLock(t.db, user.id, 9, null);
      expect((await t.http.post('/users/auth/token/', { email: user.email, password: 'wrong password 2' }, client())).status).toBe(401);
      expect(await last(user.id, 'account.locked')).toMatchObject({ surface: '002', details: { seconds: 60, failures: 10 } });
      const locked = await t.http.post('/auth/login', { email_or_name: user.email, password: user.password }, client());
      expect(locked.status).toBe(429);
      expect(await last(user.id, 'sign_in.failed')).toMatchObject({ surface: '001', details: { reason: 'locked' } });

      await expireLock(t.db, user.id);
      await setLock(t.db, user.id, 0, null);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [user.id]);
      expect((await t.http.post('/v1/auth/login', { login: user.email, password: user.password }, client())).status).toBe(403);
      expect(await last(user.id, 'sign_in.failed')).toMatchObject({ details: { reason: 'blocked' } });
    });

    it('wrong current passwords of a change: reauth.failed, and the lockout they cause', async () => {
      const user = await register();
      await setLock(t.db, user.id, 9, null);
      const res = await t.http.put(
        '/v1/me/password',
        { currentPassword: 'not my password 1', newPassword: NEW_PASSWORD },
        { token: user.accessToken, ...client() },
      );
      expect(res.status).toBe(403);
      expect(await last(user.id, 'reauth.failed')).toMatchObject({ actor_id: user.id, session_id: user.sessionId, surface: 'v1' });
      expect(await last(user.id, 'account.locked')).toMatchObject({ details: { failures: 10 } });
    });
  });

  describe('sessions', () => {
    it('logout (v1 and 003), revoking one or every other session', async () => {
      const user = await register();
      expect((await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken, ...client() })).status).toBe(204);
      expect(await last(user.id, 'session.logout')).toMatchObject({ surface: 'v1', session_id: user.sessionId, ip });

      const legacy = await t.http.post('/api/login', { username: user.username, pwd: user.password });
      expect((await t.http.get('/api/logout', { token: legacy.body.data.token, ...client() })).status).toBe(200);
      expect(await last(user.id, 'session.logout')).toMatchObject({ surface: '003' });

      const a = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      const b = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect((await t.http.delete(`/v1/me/sessions/${b.body.sessionId}`, undefined, { token: a.body.accessToken })).status).toBe(204);
      expect(await last(user.id, 'session.revoked')).toMatchObject({ session_id: b.body.sessionId, details: { reason: 'revoked_by_user', count: 1 } });
      expect((await t.http.delete('/v1/me/sessions', undefined, { token: a.body.accessToken })).status).toBe(204);
      expect(await last(user.id, 'session.revoked')).toMatchObject({ session_id: a.body.sessionId, details: { reason: 'revoked_by_user', count: 1 } });
    });

    it('refresh-token reuse revokes the session and is recorded (v1 and 002), with no actor', async () => {
      const user = await register();
      const first = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expect(first.status).toBe(200);
      await t.db.query(`UPDATE sessions SET rotated_at = now() - interval '1 minute' WHERE id = $1`, [user.sessionId]);
      expect((await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }, client())).status).toBe(401);
      expect(await last(user.id, 'session.refresh_reuse')).toMatchObject({ session_id: user.sessionId, actor_id: null, surface: 'v1', ip });

      const pair = await t.http.post('/users/auth/token/', { email: user.email, password: user.password });
      await t.http.post('/users/auth/token/refresh/', { refresh: pair.body.refresh });
      await t.db.query(`UPDATE sessions SET rotated_at = now() - interval '1 minute' WHERE user_id = $1`, [user.id]);
      expect((await t.http.post('/users/auth/token/refresh/', { refresh: pair.body.refresh })).status).toBe(401);
      expect(await last(user.id, 'session.refresh_reuse')).toMatchObject({ surface: '002' });
    });
  });

  describe('passwords', () => {
    it('changed on v1, 002 and 004 (with the sessions it ended), reset by code on v1 and 004 and by link on 003', async () => {
      const user = await register();
      await t.http.post('/v1/auth/login', { login: user.email, password: user.password }); // a second session, ended by the change
      expect(
        (await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, { token: user.accessToken, ...client() })).status,
      ).toBe(204);
      expect(await last(user.id, 'password.changed')).toMatchObject({
        surface: 'v1',
        ip,
        actor_id: user.id,
        session_id: user.sessionId,
        details: { sessionsEnded: 1 },
      });
      expect(await last(user.id, 'session.revoked')).toMatchObject({ details: { reason: 'password_changed', count: 1 } });

      expect((await t.http.patch('/users/user/', { password: `${NEW_PASSWORD} 2` }, { token: user.accessToken })).status).toBe(200);
      expect(await last(user.id, 'password.changed')).toMatchObject({ surface: '002' });
      expect(
        (await t.http.patch('/me/password', { password: `${NEW_PASSWORD} 2`, newPassword: `${NEW_PASSWORD} 3` }, { token: user.accessToken })).status,
      ).toBe(200);
      expect(await last(user.id, 'password.changed')).toMatchObject({ surface: '004' });

      // Reset by SMS code (004), which also proves the phone; every session ends.
      await markContactsVerified(t.db, user.id, { email: true });
      await t.http.patch('/me/password', { phone: user.phone });
      const sms = await t.sms.waitFor((m) => m.to === user.phone);
      expect((await t.http.patch('/me/password', { phone: user.phone, code: codeIn(sms.text), password: `${NEW_PASSWORD} 4` }, client())).status).toBe(200);
      expect(await last(user.id, 'password.reset')).toMatchObject({ surface: '004', ip, actor_id: user.id, details: { via: 'phone', sessionsEnded: 1 } });
      expect(await last(user.id, 'phone.verified')).toMatchObject({ surface: '004', details: { via: 'password_reset' } });

      // By e-mail code (v1).
      const since = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email: user.email });
      const mail = await t.mail.waitFor((m) => !since.has(m) && m.to === user.email.toLowerCase() && /\b\d{6}\b/.test(m.text));
      expect((await t.http.post('/v1/auth/password/reset', { email: user.email, code: codeIn(mail.text), password: `${NEW_PASSWORD} 5` })).status).toBe(204);
      expect(await last(user.id, 'password.reset')).toMatchObject({ surface: 'v1', details: { via: 'email', sessionsEnded: 0 } });

      // By link (003).
      const before = new Set(t.mail.messages);
      await t.http.post('/api/reset_password_request', { username: user.email });
      const linkMail = await t.mail.waitFor((m) => !before.has(m) && m.to === user.email.toLowerCase() && m.text.includes('/api/reset_password/'));
      const token = new URL(linkIn(linkMail.text, '/api/reset_password/')).pathname.split('/').pop();
      expect((await t.http.post(`/api/reset_password/${token}`, { new_pwd: `${NEW_PASSWORD} 6` })).status).toBe(200);
      expect(await last(user.id, 'password.reset')).toMatchObject({ surface: '003', details: { via: 'email' } });

      // No password, code or token in any event of this user.
      const text = JSON.stringify(await eventsOf(user.id));
      for (const secret of [user.password, NEW_PASSWORD, codeIn(mail.text), codeIn(sms.text), token!, user.accessToken, user.refreshToken]) {
        expect(text).not.toContain(secret);
      }
    });

    it('a reset detaches an unverified other contact: recorded as a change of it', async () => {
      const user = await register();
      await t.http.post('/v1/auth/password/forgot', { phone: user.phone });
      const sms = await t.sms.waitFor((m) => m.to === user.phone);
      expect((await t.http.post('/v1/auth/password/reset', { phone: user.phone, code: codeIn(sms.text), password: NEW_PASSWORD })).status).toBe(204);
      expect(await last(user.id, 'email.changed')).toMatchObject({
        details: { previousAddress: user.email.toLowerCase(), newAddress: null, reason: 'detached_by_reset' },
      });
    });
  });

  describe('contacts', () => {
    it('e-mail: verified by code and by link, changed in two steps on v1 and directly on 000 and 002; phone changed and verified', async () => {
      const user = await register();
      const welcome = await t.mail.waitFor((m) => m.to === user.email.toLowerCase());
      expect((await t.http.post('/v1/me/email/verification/confirm', { code: codeIn(welcome.text) }, { token: user.accessToken, ...client() })).status).toBe(
        200,
      );
      expect(await last(user.id, 'email.verified')).toMatchObject({ surface: 'v1', ip, session_id: user.sessionId, details: { via: 'code' } });

      const next = `${unique('next')}@example.com`;
      await t.http.post('/v1/me/email/change', { email: next, currentPassword: user.password }, { token: user.accessToken });
      const change = await t.mail.waitFor((m) => m.to === next);
      expect((await t.http.post('/v1/me/email/change/confirm', { code: codeIn(change.text) }, { token: user.accessToken })).status).toBe(200);
      expect(await last(user.id, 'email.changed')).toMatchObject({
        surface: 'v1',
        details: { previousAddress: user.email.toLowerCase(), newAddress: next, verified: true, reason: 'confirmed' },
      });

      const direct = `${unique('direct')}@example.com`;
      expect((await t.http.post('/api/users/profile', { email: direct }, { token: user.accessToken })).status).toBe(200);
      expect(await last(user.id, 'email.changed')).toMatchObject({
        surface: '000',
        details: { previousAddress: next, newAddress: direct, verified: false, reason: 'update' },
      });

      const phone = uniquePhone();
      expect((await t.http.patch('/users/user/', { number: phone }, { token: user.accessToken })).status).toBe(200);
      expect(await last(user.id, 'phone.changed')).toMatchObject({ surface: '002', details: { previousAddress: user.phone, newAddress: phone } });
      await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken });
      const sms = await t.sms.waitFor((m) => m.to === phone);
      expect((await t.http.post('/v1/me/phone/verification/confirm', { code: codeIn(sms.text) }, { token: user.accessToken })).status).toBe(200);
      expect(await last(user.id, 'phone.verified')).toMatchObject({ details: { via: 'code' } });

      // The 003 link.
      const linked = `${unique('linked')}@example.com`;
      const other = await t.http.post('/api/registration', { username: unique('u'), email: linked, pwd: GOOD_PASSWORD });
      expect(other.status).toBe(200);
      const confirm = await t.mail.waitFor((m) => m.to === linked);
      expect((await t.http.get(new URL(linkIn(confirm.text, '/api/confirm_email/')).pathname)).status).toBe(200);
      const [owner] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [linked]);
      expect(await typesOf(owner.id)).toEqual(['account.created', 'email.verified']);
      expect(await last(owner.id, 'email.verified')).toMatchObject({ surface: '003', details: { via: 'link' } });
    });

    it('a change that fails (the address is taken) records nothing', async () => {
      const user = await register();
      const taken = await register();
      const res = await t.http.post('/api/users/profile', { email: taken.email }, { token: user.accessToken });
      expect(res.status).toBe(409);
      expect(await typesOf(user.id)).not.toContain('email.changed');
    });
  });

  describe('administration', () => {
    it('role and status changes name the administrator as the actor; blocking records the sessions it ended', async () => {
      const admin = await register();
      await promoteToAdmin(t.db, admin.id);
      const user = await register();
      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'executor', status: 'blocked' }, { token: admin.accessToken, ...client() });
      expect(res.status).toBe(200);
      const events = await eventsOf(user.id);
      expect(events.find((e) => e.type === 'role.changed')).toMatchObject({ actor_id: admin.id, ip, surface: 'v1', details: { from: 'user', to: 'executor' } });
      expect(events.find((e) => e.type === 'status.changed')).toMatchObject({ actor_id: admin.id, details: { from: 'active', to: 'blocked' } });
      expect(events.find((e) => e.type === 'session.revoked')).toMatchObject({ actor_id: admin.id, details: { reason: 'blocked', count: 1 } });
    });

    it('an administrator editing a user on 001: admin.user_updated with the field names, and the password change with the administrator as actor', async () => {
      const admin = await register();
      await promoteToAdmin(t.db, admin.id);
      const user = await register();
      const username = unique('renamed');
      const res = await t.http.put(`/${user.id}`, { username, password: NEW_PASSWORD }, { token: admin.accessToken });
      expect(res.status).toBe(200);
      expect(await last(user.id, 'admin.user_updated')).toMatchObject({ actor_id: admin.id, surface: '001', details: { fields: ['password', 'username'] } });
      expect(await last(user.id, 'password.changed')).toMatchObject({ actor_id: admin.id, session_id: null });
      expect(JSON.stringify(await eventsOf(user.id))).not.toContain(username);
    });
  });

  describe('the same transaction as the change', () => {
    afterEach(async () => {
      await t.db.query(`DROP TRIGGER IF EXISTS refuse_event ON security_events`);
      await t.db.query(`DROP TRIGGER IF EXISTS refuse_notice ON outbox_messages`);
    });

    it('a change that fails after its event was written leaves no event (the notice cannot be queued)', async () => {
      const user = await register();
      await markContactsVerified(t.db, user.id, { email: true }); // so the change queues a notice, after the event
      await t.db.query(`
        CREATE OR REPLACE FUNCTION refuse_notice() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.template = 'password-changed' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
      await t.db.query(`CREATE TRIGGER refuse_notice BEFORE INSERT ON outbox_messages FOR EACH ROW EXECUTE FUNCTION refuse_notice()`);
      const res = await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, { token: user.accessToken });
      expect(res.status).toBe(500);
      expect(await typesOf(user.id)).not.toContain('password.changed');
      await t.db.query(`DROP TRIGGER refuse_notice ON outbox_messages`);
      expect((await t.http.post('/v1/auth/login', { login: user.email, password: user.password })).status).toBe(200);
    });

    it('an event that cannot be written undoes its change: the password stays, the session stays', async () => {
      const user = await register();
      await t.db.query(`
        CREATE OR REPLACE FUNCTION refuse_password_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.type = 'password.changed' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
      await t.db.query(`CREATE TRIGGER refuse_event BEFORE INSERT ON security_events FOR EACH ROW EXECUTE FUNCTION refuse_password_event()`);
      const other = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      const res = await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: NEW_PASSWORD }, { token: user.accessToken });
      expect(res.status).toBe(500);
      await t.db.query(`DROP TRIGGER refuse_event ON security_events`);
      expect((await t.http.post('/v1/auth/login', { login: user.email, password: user.password })).status).toBe(200);
      expect((await t.http.get('/v1/me', { token: other.body.accessToken })).status).toBe(200);
    });

    it('an event is not written when its change fails (a session that cannot be created leaves no sign-in event)', async () => {
      const user = await register();
      await t.db.query(`
        CREATE OR REPLACE FUNCTION refuse_password_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.type = 'sign_in.succeeded' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
      await t.db.query(`CREATE TRIGGER refuse_event BEFORE INSERT ON security_events FOR EACH ROW EXECUTE FUNCTION refuse_password_event()`);
      const [{ n: before }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [user.id]);
      expect((await t.http.post('/v1/auth/login', { login: user.email, password: user.password })).status).toBe(500);
      const [{ n: after }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1`, [user.id]);
      expect(after).toBe(before);
    });
  });

  describe('the table is append-only', () => {
    it('refuses any change but removing personal data', async () => {
      const user = await register();
      const [event] = await eventsOf(user.id);
      await expect(t.db.query(`UPDATE security_events SET type = 'sign_in.failed' WHERE id = $1`, [event.id])).rejects.toThrow(/append-only/);
      await expect(t.db.query(`UPDATE security_events SET occurred_at = now() - interval '1 day' WHERE id = $1`, [event.id])).rejects.toThrow(/append-only/);
      await expect(t.db.query(`UPDATE security_events SET details = '{"forged":true}' WHERE id = $1`, [event.id])).rejects.toThrow(/append-only/);
      await expect(t.db.query(`UPDATE security_events SET ip = '10.0.0.1', user_agent = NULL WHERE id = $1`, [event.id])).rejects.toThrow(/append-only/);
      await t.db.query(`UPDATE security_events SET ip = NULL, user_agent = NULL WHERE id = $1`, [event.id]);
    });
  });

  describe('deleting an account', () => {
    it.each([
      ['v1', (user: SignedInUser) => t.http.delete('/v1/me', { currentPassword: user.password }, { token: user.accessToken, ...client() })],
      ['002', (user: SignedInUser) => t.http.delete('/users/user/', undefined, { token: user.accessToken, ...client() })],
    ])('%s: keeps its events and the user id, without IP addresses, user agents or contact addresses', async (surface, remove) => {
      const user = await register();
      await t.http.post('/api/users/profile', { email: `${unique('gone')}@example.com` }, { token: user.accessToken, ...client() });
      const countBefore = (await eventsOf(user.id)).length;
      const res = await remove(user);
      expect(res.status).toBeLessThan(300);

      const events = await eventsOf(user.id);
      expect(events).toHaveLength(countBefore + 1);
      expect(events.at(-1)).toMatchObject({ type: 'account.deleted', surface, ip: null, user_agent: null });
      for (const event of events) {
        expect(event).toMatchObject({ ip: null, user_agent: null });
        expect(event.details).not.toHaveProperty('previousAddress');
        expect(event.details).not.toHaveProperty('newAddress');
      }
      expect(JSON.stringify(events)).not.toContain(user.email.toLowerCase());
      expect(JSON.stringify(events)).not.toContain(user.phone);
      expect(events.find((e) => e.type === 'email.changed')).toMatchObject({ details: { reason: 'update', verified: false } });
    });

    it("an administrator's deletion also strips their IP from the events where they acted on others", async () => {
      const admin = await register();
      await promoteToAdmin(t.db, admin.id);
      const user = await register();
      await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'executor' }, { token: admin.accessToken, ...client() });
      expect((await t.http.delete('/v1/me', { currentPassword: admin.password }, { token: admin.accessToken })).status).toBe(204);
      expect(await last(user.id, 'role.changed')).toMatchObject({ actor_id: admin.id, ip: null, user_agent: null });
      // The user's own events keep theirs.
      expect(await last(user.id, 'sign_in.succeeded')).toMatchObject({ ip: '127.0.0.1' });
    });
  });

  describe('retention (AUDIT_RETENTION_DAYS, default 365)', () => {
    it('the hourly housekeeping deletes events older than the retention, and only those', async () => {
      const user = await quickUser(t.app);
      await t.db.query(
        `INSERT INTO security_events (type, user_id, occurred_at) VALUES
           ('sign_in.failed', $1, now() - interval '366 days'), ('sign_in.failed', $1, now() - interval '364 days')`,
        [user.id],
      );
      await t.app.get(VerificationHousekeeping).sweep();
      const left = await t.db.query(`SELECT occurred_at FROM security_events WHERE user_id = $1 AND type = 'sign_in.failed'`, [user.id]);
      expect(left).toHaveLength(1);
      expect(Date.now() - new Date(left[0].occurred_at).getTime()).toBeLessThan(365 * 86_400_000);
    });
  });

  describe('GET /v1/admin/events', () => {
    let admin: SignedInUser;
    beforeAll(async () => {
      admin = await register();
      await promoteToAdmin(t.db, admin.id);
    });

    it('filters by user, type and time; newest first; pages with a cursor (at most 100 a page)', async () => {
      const user = await quickUser(t.app);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const [{ now: start }] = await t.db.query(`SELECT clock_timestamp() AS now`);
      for (let i = 0; i < 5; i++) await t.http.post('/v1/auth/login', { login: user.email, password: `wrong password ${i}` });
      await t.http.post('/v1/auth/login', { login: user.email, password: GOOD_PASSWORD });

      const all = await t.http.get(`/v1/admin/events?userId=${user.id}&limit=100`, { token: admin.accessToken });
      expect(all.status).toBe(200);
      // quickUser's own session came first (made by the service: no surface).
      expect(all.body.items.map((e: { type: string }) => e.type)).toEqual(['sign_in.succeeded', ...Array(5).fill('sign_in.failed'), 'sign_in.succeeded']);
      expect(all.body.nextCursor).toBeNull();
      expect(all.body.items[0]).toMatchObject({
        userId: user.id,
        actorId: user.id,
        surface: 'v1',
        ip: '127.0.0.1',
        sessionId: expect.any(String),
        details: { method: 'password' },
      });

      const pages: string[][] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const page: { status: number; body: { items: { id: string; details: { reason: string } }[]; nextCursor: string | null } } = await t.http.get(
          `/v1/admin/events?userId=${user.id}&type=sign_in.failed&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
          { token: admin.accessToken },
        );
        expect(page.status).toBe(200);
        pages.push(page.body.items.map((e) => e.id));
        cursor = page.body.nextCursor;
      }
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      const ids = pages.flat().map(BigInt);
      expect([...ids].sort((a, b) => (a > b ? -1 : 1))).toEqual(ids);

      const from = encodeURIComponent(new Date(start).toISOString());
      expect((await t.http.get(`/v1/admin/events?userId=${user.id}&from=${from}`, { token: admin.accessToken })).body.items).toHaveLength(6);
      expect((await t.http.get(`/v1/admin/events?userId=${user.id}&to=${from}`, { token: admin.accessToken })).body.items).toMatchObject([{ surface: null }]);
    });

    it('orders by the id as a number, also where the ids gain a digit (100 is newer than 99)', async () => {
      const user = await quickUser(t.app);
      // Only forward: the next ids cross from n digits to n + 1.
      const [{ max }] = await t.db.query(`SELECT coalesce(max(id), 0)::text AS max FROM security_events`);
      const next = 10 ** (max.length + 1) - 2;
      await t.db.query(`ALTER TABLE security_events ALTER COLUMN id RESTART WITH ${next}`);
      for (let i = 0; i < 4; i++) await t.http.post('/v1/auth/login', { login: user.email, password: `wrong password ${i}` });
      const ids = [String(next + 3), String(next + 2), String(next + 1), String(next)];

      const all = await t.http.get(`/v1/admin/events?userId=${user.id}&type=sign_in.failed`, { token: admin.accessToken });
      expect(all.body.items.map((e: { id: string }) => e.id)).toEqual(ids);
      const first = await t.http.get(`/v1/admin/events?userId=${user.id}&type=sign_in.failed&limit=2`, { token: admin.accessToken });
      const second = await t.http.get(`/v1/admin/events?userId=${user.id}&type=sign_in.failed&limit=2&cursor=${first.body.nextCursor}`, {
        token: admin.accessToken,
      });
      expect([...first.body.items, ...second.body.items].map((e: { id: string }) => e.id)).toEqual(ids);
    });

    it('filters by actor: what an administrator did to others', async () => {
      const other = await register();
      await promoteToAdmin(t.db, other.id);
      const user = await quickUser(t.app);
      await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'executor' }, { token: other.accessToken });
      const res = await t.http.get(`/v1/admin/events?actorId=${other.id}`, { token: other.accessToken });
      expect(res.body.items.map((e: { type: string; userId: string }) => [e.type, e.userId])).toEqual([['role.changed', user.id]]);
    });

    it('refuses a page over 100, a malformed cursor, type or time (400), anyone but an administrator (403)', async () => {
      expectProblem(await t.http.get('/v1/admin/events?limit=101', { token: admin.accessToken }), 400);
      expectProblem(await t.http.get('/v1/admin/events?cursor=abc', { token: admin.accessToken }), 400);
      expectProblem(await t.http.get('/v1/admin/events?type=nothing', { token: admin.accessToken }), 400);
      expectProblem(await t.http.get('/v1/admin/events?from=yesterday', { token: admin.accessToken }), 400);
      const user = await quickUser(t.app);
      expectProblem(await t.http.get('/v1/admin/events', { token: user.accessToken }), 403);
      expectProblem(await t.http.get('/v1/admin/events'), 401);
    });
  });

  describe('GET /v1/me/events', () => {
    it('lists only your own events, newest first, with who acted and which one is this session', async () => {
      const admin = await register();
      await promoteToAdmin(t.db, admin.id);
      const user = await register();
      await t.http.post('/v1/auth/login', { login: user.email, password: 'wrong password 1' });
      await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'executor' }, { token: admin.accessToken });

      const res = await t.http.get('/v1/me/events', { token: user.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.items.map((e: { type: string; actor: string | null }) => [e.type, e.actor])).toEqual([
        ['role.changed', 'administrator'],
        ['sign_in.failed', null],
        ['sign_in.succeeded', 'self'],
        ['account.created', 'self'],
      ]);
      expect(res.body.items[2]).toMatchObject({ sessionId: user.sessionId, currentSession: true });
      expect(JSON.stringify(res.body)).not.toContain(admin.id);

      const page = await t.http.get('/v1/me/events?limit=1&type=sign_in.failed', { token: user.accessToken });
      expect(page.body).toMatchObject({ items: [{ type: 'sign_in.failed' }], nextCursor: null });
      expectProblem(await t.http.get('/v1/me/events?limit=0', { token: user.accessToken }), 400);
    });
  });
});
