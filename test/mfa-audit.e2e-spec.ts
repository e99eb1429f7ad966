import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { expectProblem } from './support/expect';
import { lockState, setLock } from './support/lockout';
import { codeIn } from './support/mail';
import { createAppPassword, enrolTotp, forgetTotpUse, stepUpWithTotp, totpCode } from './support/mfa';
import { markContactsVerified, promoteToAdmin, registerAndLogin, SignedInUser } from './support/users';
import { SoftAuthenticator } from './support/webauthn';

const UA = 'mfa-audit-test/1.0';
const METRICS_TOKEN = 'mfa-audit-metrics-token-0123456789';

/** An event as GET /v1/me/events lists it (newest first). */
interface MyEvent {
  id: string;
  type: string;
  actor: 'self' | 'administrator' | null;
  surface: string | null;
  ip: string | null;
  userAgent: string | null;
  sessionId: string | null;
  currentSession: boolean;
  details: Record<string, unknown>;
}

/** A six-digit code that is none of the codes `secret` accepts now (current step ± 1). */
function wrongCode(secret: string): string {
  const good = new Set([-1, 0, 1].map((steps) => totpCode(secret, steps)));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, '0');
    if (!good.has(candidate)) return candidate;
  }
}

/** The value of one Prometheus sample with exactly these labels (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key, value]));
    if (Object.keys(found).length === Object.keys(labels).length && Object.entries(labels).every(([key, value]) => found[key] === value))
      return Number(match[3]);
  }
  return 0;
}

/**
 * Issue 12's events in the audit log (issue 14's `security_events`), end to end over HTTP and read
 * back the way users and administrators read them (GET /v1/me/events, GET /v1/admin/events): each
 * second-factor and app-password change writes its event in its own transaction, with who acted,
 * from where and through which surface, and never a secret; a change that fails writes none, and an
 * event that cannot be written undoes its change.
 */
describe('second factors and app passwords in the audit log', () => {
  let t: DeliveryTestApp;
  /** Each test's client address (after TRUST_PROXY), so what a test checks is its own requests' doing. */
  let ip: string;
  /** Request options from this test's client: its address and user agent, with `token` when given. */
  const client = (token?: string) => ({ ...(token ? { token } : {}), headers: { 'x-forwarded-for': ip, 'user-agent': UA } });

  beforeAll(async () => (t = await startAppWithDelivery({ TRUST_PROXY: '127.0.0.1', METRICS_TOKEN })));
  afterAll(() => t.close());
  beforeEach(() => {
    ip = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
  });

  async function myEvents(token: string, type?: string): Promise<MyEvent[]> {
    const res = await t.http.get(`/v1/me/events?limit=100${type ? `&type=${type}` : ''}`, { token });
    expect(res.status).toBe(200);
    return res.body.items;
  }
  const typesOf = (events: MyEvent[]) => events.map((event) => event.type);

  /** Where an event of a /v1 request of this test's client says it came from. */
  const fromThisClient = () => ({ surface: 'v1', ip, userAgent: UA });

  async function owner(): Promise<SignedInUser> {
    const user = await registerAndLogin(t.http);
    await markContactsVerified(t.db, user.id);
    return user;
  }

  /** An account with an authenticator app, an aal2 token of its first session, and the codes it got. */
  async function withTotp() {
    const user = await owner();
    const { secret, recoveryCodes } = await enrolTotp(t.http, user.accessToken);
    const aal2 = await stepUpWithTotp(t.http, user.accessToken, secret);
    await forgetTotpUse(t.db, user.id);
    return { ...user, secret, recoveryCodes, aal2 };
  }

  async function scrape(): Promise<string> {
    const res = await t.http.get('/metrics', { notAnOperation: true, token: METRICS_TOKEN });
    expect(res.status).toBe(200);
    return res.text;
  }

  describe('factor.added', () => {
    it('a wrong confirmation code writes nothing; the authenticator app and its first recovery codes: one event each, by the user, from this session', async () => {
      const user = await owner();
      const started = await t.http.post('/v1/me/factors/totp', {}, { token: user.accessToken });
      expect(started.status).toBe(201);
      const secret: string = started.body.secret;

      expectProblem(await t.http.post('/v1/me/factors/totp/confirm', { code: wrongCode(secret) }, client(user.accessToken)), 400, 'InvalidCode');
      expect(typesOf(await myEvents(user.accessToken))).not.toContain('factor.added');

      const code = totpCode(secret);
      const confirmed = await t.http.post('/v1/me/factors/totp/confirm', { code }, client(user.accessToken));
      expect(confirmed.status).toBe(200);
      const recoveryCodes: string[] = confirmed.body.recoveryCodes;
      expect(recoveryCodes).toHaveLength(10);

      const event = { type: 'factor.added', actor: 'self', ...fromThisClient(), sessionId: user.sessionId, currentSession: true };
      expect(await myEvents(user.accessToken, 'factor.added')).toEqual([
        expect.objectContaining({ ...event, details: { factor: 'recovery_codes' } }),
        expect.objectContaining({ ...event, details: { factor: 'totp' } }),
      ]);

      // New recovery codes (aal2 needed now): another factor.added, from the session that asked.
      const aal2 = await stepUpWithTotp(t.http, user.accessToken, secret);
      const renewed = await t.http.post('/v1/me/factors/recovery-codes', {}, client(aal2));
      expect(renewed.status).toBe(200);
      const [latest] = await myEvents(user.accessToken, 'factor.added');
      expect(latest).toEqual(expect.objectContaining({ ...event, details: { factor: 'recovery_codes' } }));

      const text = JSON.stringify(await myEvents(user.accessToken));
      for (const secretText of [secret, code, user.password, ...recoveryCodes, ...renewed.body.codes]) expect(text).not.toContain(secretText);
    });

    it('a passkey registered: factor.added (passkey), with the first recovery codes; a response that does not verify writes nothing', async () => {
      const user = await owner();
      const authenticator = new SoftAuthenticator(PUBLIC_URL);

      const refusedOptions = await t.http.post('/v1/me/factors/passkeys/options', {}, { token: user.accessToken });
      const phished = authenticator.create(refusedOptions.body.publicKey, { origin: 'https://id.example.test.evil.test' });
      const refused = await t.http.post(
        '/v1/me/factors/passkeys',
        { challengeId: refusedOptions.body.challengeId, name: 'Phished', credential: phished },
        client(user.accessToken),
      );
      expectProblem(refused, 400, 'PasskeyRejected');
      expect(typesOf(await myEvents(user.accessToken))).not.toContain('factor.added');

      const options = await t.http.post('/v1/me/factors/passkeys/options', {}, client(user.accessToken));
      const registered = await t.http.post(
        '/v1/me/factors/passkeys',
        { challengeId: options.body.challengeId, name: 'Laptop', credential: authenticator.create(options.body.publicKey) },
        client(user.accessToken),
      );
      expect(registered.status).toBe(201);
      const event = { type: 'factor.added', actor: 'self', ...fromThisClient(), sessionId: user.sessionId };
      expect(await myEvents(user.accessToken, 'factor.added')).toEqual([
        expect.objectContaining({ ...event, details: { factor: 'recovery_codes' } }),
        expect.objectContaining({ ...event, details: { factor: 'passkey' } }),
      ]);
    });
  });

  describe('challenge.passed and challenge.failed', () => {
    it('the second step of a sign-in (TOTP, a recovery code) and a step-up; a wrong answer counts, has no actor, and the one that locks writes account.locked', async () => {
      const user = await withTotp();
      const before = await scrape();

      // A wrong code, then the right one, on one sign-in challenge.
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password }, client());
      expect(login.body.mfaRequired).toBe(true);
      const wrong = wrongCode(user.secret);
      expectProblem(await t.http.post('/v1/auth/login/mfa', { challengeId: login.body.challengeId, totp: wrong }, client()), 401, 'WrongSecondFactor');
      expect((await lockState(t.db, user.id)).failed_count).toBe(1);
      const code = totpCode(user.secret);
      const signedIn = await t.http.post('/v1/auth/login/mfa', { challengeId: login.body.challengeId, totp: code }, client());
      expect(signedIn.status).toBe(200);
      expect(await myEvents(signedIn.body.accessToken).then((events) => events.slice(0, 3))).toEqual([
        expect.objectContaining({
          type: 'sign_in.succeeded',
          actor: 'self',
          sessionId: signedIn.body.sessionId,
          currentSession: true,
          details: { method: 'password', amr: ['pwd', 'otp'], remember: false },
        }),
        // The session does not exist yet when the challenge is answered.
        expect.objectContaining({ type: 'challenge.passed', actor: 'self', ...fromThisClient(), sessionId: null, details: { method: 'otp' } }),
        expect.objectContaining({ type: 'challenge.failed', actor: null, ...fromThisClient(), sessionId: null, details: { method: 'otp' } }),
      ]);

      // A recovery code.
      const again = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      const recovered = await t.http.post('/v1/auth/login/mfa', { challengeId: again.body.challengeId, recoveryCode: user.recoveryCodes[0] }, client());
      expect(recovered.status).toBe(200);
      expect((await myEvents(user.accessToken, 'challenge.passed'))[0]).toEqual(
        expect.objectContaining({ actor: 'self', ...fromThisClient(), details: { method: 'recovery' } }),
      );

      // A step-up of the first session: its events name it.
      await forgetTotpUse(t.db, user.id);
      const stepUp = await t.http.post('/v1/me/step-up', {}, { token: user.accessToken });
      expectProblem(
        await t.http.post('/v1/me/step-up/verify', { challengeId: stepUp.body.challengeId, totp: wrongCode(user.secret) }, client(user.accessToken)),
        401,
        'WrongSecondFactor',
      );
      const verified = await t.http.post(
        '/v1/me/step-up/verify',
        { challengeId: stepUp.body.challengeId, totp: totpCode(user.secret) },
        client(user.accessToken),
      );
      expect(verified.status).toBe(200);
      const session = { ...fromThisClient(), sessionId: user.sessionId, currentSession: true };
      expect((await myEvents(user.accessToken)).slice(0, 2)).toEqual([
        expect.objectContaining({ type: 'challenge.passed', actor: 'self', ...session, details: { method: 'otp' } }),
        expect.objectContaining({ type: 'challenge.failed', actor: null, ...session, details: { method: 'otp' } }),
      ]);

      // The tenth failure in a row locks the account: challenge.failed and account.locked, in that try's transaction.
      await setLock(t.db, user.id, 9, null);
      const third = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expectProblem(await t.http.post('/v1/auth/login/mfa', { challengeId: third.body.challengeId, totp: wrongCode(user.secret) }, client()), 401);
      expect((await lockState(t.db, user.id)).locked_until).not.toBeNull();
      expect((await myEvents(user.accessToken)).slice(0, 2)).toEqual([
        expect.objectContaining({ type: 'account.locked', actor: null, ...fromThisClient(), details: { seconds: 60, failures: 10 } }),
        expect.objectContaining({ type: 'challenge.failed', actor: null, ...fromThisClient(), details: { method: 'otp' } }),
      ]);

      // No code in any event.
      const text = JSON.stringify(await myEvents(user.accessToken));
      for (const secretText of [user.secret, wrong, code, user.recoveryCodes[0], user.password]) expect(text).not.toContain(secretText);

      // The metrics count each completed sign-in once (sign_in.succeeded, not challenge.passed) and the lockout once.
      const after = await scrape();
      const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
      expect(delta('identity_sign_ins_total', { surface: 'v1', result: 'success' })).toBe(2);
      expect(delta('identity_lockouts_total', { surface: 'v1' })).toBe(1);
    });

    it('a sign-in with a passkey alone: challenge.passed (webauthn); a cloned authenticator: challenge.failed with no actor, not counted toward the lockout', async () => {
      const user = await owner();
      const authenticator = new SoftAuthenticator(PUBLIC_URL);
      const options = await t.http.post('/v1/me/factors/passkeys/options', {}, { token: user.accessToken });
      const credential = authenticator.create(options.body.publicKey);
      expect((await t.http.post('/v1/me/factors/passkeys', { challengeId: options.body.challengeId, credential }, { token: user.accessToken })).status).toBe(
        201,
      );
      const clone = authenticator.clone();

      const passkeySignIn = async (device: SoftAuthenticator) => {
        const signInOptions = await t.http.post('/v1/auth/passkey/options', {});
        return t.http.post('/v1/auth/passkey', { challengeId: signInOptions.body.challengeId, credential: device.get(signInOptions.body.publicKey) }, client());
      };
      const signedIn = await passkeySignIn(authenticator);
      expect(signedIn.status).toBe(200);
      expectProblem(await passkeySignIn(clone), 401, 'WrongSecondFactor');
      expect((await lockState(t.db, user.id)).failed_count).toBe(0);

      expect((await myEvents(signedIn.body.accessToken)).slice(0, 3)).toEqual([
        expect.objectContaining({ type: 'challenge.failed', actor: null, ...fromThisClient(), sessionId: null, details: { method: 'webauthn' } }),
        expect.objectContaining({
          type: 'sign_in.succeeded',
          actor: 'self',
          sessionId: signedIn.body.sessionId,
          details: { method: 'passkey', amr: ['webauthn'], remember: false },
        }),
        expect.objectContaining({ type: 'challenge.passed', actor: 'self', ...fromThisClient(), sessionId: null, details: { method: 'webauthn' } }),
      ]);
    });
  });

  describe('factor.removed', () => {
    it('by the user: the factor; with the last one, the recovery codes and each app password (app_password.revoked, second_factors_removed)', async () => {
      const user = await withTotp();
      const authenticator = new SoftAuthenticator(PUBLIC_URL);
      const options = await t.http.post('/v1/me/factors/passkeys/options', {}, { token: user.aal2 });
      const credential = authenticator.create(options.body.publicKey);
      expect((await t.http.post('/v1/me/factors/passkeys', { challengeId: options.body.challengeId, credential }, { token: user.aal2 })).status).toBe(201);
      await createAppPassword(t.http, user.aal2, 'Old mobile app');
      const [totp, passkey] = (await t.http.get('/v1/me/factors', { token: user.aal2 })).body.factors;
      expect([totp.type, passkey.type]).toEqual(['totp', 'passkey']);

      expect((await t.http.delete(`/v1/me/factors/${passkey.id}`, {}, client(user.aal2))).status).toBe(204);
      const event = { type: 'factor.removed', actor: 'self', ...fromThisClient(), sessionId: user.sessionId };
      expect(await myEvents(user.aal2, 'factor.removed')).toEqual([expect.objectContaining({ ...event, details: { factor: 'passkey' } })]);

      // The last factor: its recovery codes and app passwords go in the same transaction, each recorded.
      expect((await t.http.delete(`/v1/me/factors/${totp.id}`, {}, client(user.aal2))).status).toBe(204);
      expect((await myEvents(user.aal2)).slice(0, 3)).toEqual([
        expect.objectContaining({ ...event, details: { factor: 'recovery_codes' } }),
        expect.objectContaining({ ...event, type: 'app_password.revoked', details: { name: 'Old mobile app', reason: 'second_factors_removed' } }),
        expect.objectContaining({ ...event, details: { factor: 'totp' } }),
      ]);
    });

    it('by an administrator: every factor, the recovery codes, the app passwords and the sessions, each with the administrator as actor', async () => {
      const admin = await registerAndLogin(t.http);
      await promoteToAdmin(t.db, admin.id);
      const user = await withTotp();
      await createAppPassword(t.http, user.aal2, 'Tablet');

      expect((await t.http.delete(`/v1/admin/users/${user.id}/factors`, undefined, client(admin.accessToken))).status).toBe(204);

      const res = await t.http.get(`/v1/admin/events?actorId=${admin.id}&limit=100`, { token: admin.accessToken });
      expect(res.status).toBe(200);
      const event = { userId: user.id, actorId: admin.id, surface: 'v1', ip, userAgent: UA, sessionId: null };
      expect([...res.body.items].reverse()).toEqual([
        expect.objectContaining({ ...event, type: 'session.revoked', details: { reason: 'second_factors_reset', count: 1 } }),
        expect.objectContaining({ ...event, type: 'factor.removed', details: { factor: 'totp' } }),
        expect.objectContaining({ ...event, type: 'app_password.revoked', details: { name: 'Tablet', reason: 'second_factors_reset' } }),
        expect.objectContaining({ ...event, type: 'factor.removed', details: { factor: 'recovery_codes' } }),
      ]);

      // The user (signing in with the password alone again) sees an administrator, never the administrator's id.
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(login.status).toBe(200);
      const mine = await t.http.get('/v1/me/events?type=factor.removed', { token: login.body.accessToken });
      expect(mine.body.items.map((e: MyEvent) => [e.actor, e.details.factor])).toEqual([
        ['administrator', 'recovery_codes'],
        ['administrator', 'totp'],
      ]);
      expect(mine.text).not.toContain(admin.id);
    });
  });

  describe('app passwords', () => {
    it('created, used on 001, 002 and 003 (before the sign-in it opens), revoked by the user: the name, never the password; a wrong one is no use', async () => {
      const user = await withTotp();
      const created = await t.http.post('/v1/me/app-passwords', { name: 'Old mobile app' }, client(user.aal2));
      expect(created.status).toBe(201);
      const password: string = created.body.password;
      const own = { actor: 'self', ...fromThisClient() };
      expect(await myEvents(user.aal2, 'app_password.created')).toEqual([
        expect.objectContaining({ ...own, sessionId: user.sessionId, details: { name: 'Old mobile app' } }),
      ]);

      const legacy = {
        '001': () => t.http.post('/auth/login', { email_or_name: user.email, password }, client()),
        '002': () => t.http.post('/users/auth/token/', { email: user.email, password }, client()),
        '003': () => t.http.post('/api/login', { username: user.email, pwd: password }, client()),
      };
      for (const [surface, signIn] of Object.entries(legacy)) {
        expect((await signIn()).status).toBe(200);
        const [signedIn, used] = await myEvents(user.aal2);
        expect(signedIn).toEqual(
          expect.objectContaining({
            type: 'sign_in.succeeded',
            surface,
            ip,
            details: expect.objectContaining({ method: 'app_password', amr: ['app-password'] }),
          }),
        );
        expect(used).toEqual(
          expect.objectContaining({ type: 'app_password.used', actor: 'self', surface, ip, userAgent: UA, details: { name: 'Old mobile app' } }),
        );
      }
      const usedCount = (await myEvents(user.aal2, 'app_password.used')).length;
      expect(usedCount).toBe(3);
      // A wrong app password is a failed sign-in, not a use.
      expect((await t.http.post('/api/login', { username: user.email, pwd: 'abcd-efgh-ijkl-mnop' }, client())).status).not.toBe(200);
      expect(await myEvents(user.aal2, 'app_password.used')).toHaveLength(usedCount);

      expect((await t.http.delete(`/v1/me/app-passwords/${created.body.id}`, undefined, client(user.accessToken))).status).toBe(204);
      expect(await myEvents(user.aal2, 'app_password.revoked')).toEqual([
        expect.objectContaining({ ...own, sessionId: user.sessionId, details: { name: 'Old mobile app', reason: 'revoked_by_user' } }),
      ]);
      // The three sessions it opened end with it, in the same transaction: one session.revoked.
      expect(await myEvents(user.aal2, 'session.revoked')).toEqual([
        expect.objectContaining({ ...own, sessionId: user.sessionId, details: { reason: 'app_password_revoked', count: 3 } }),
      ]);
      expect(JSON.stringify(await myEvents(user.aal2))).not.toContain(password);
      expect(JSON.stringify(await myEvents(user.aal2)).toLowerCase()).not.toContain(password.replace(/-/g, ''));
    });

    it("a blocked account's app password: sign_in.failed (blocked), and no use recorded", async () => {
      const admin = await registerAndLogin(t.http);
      await promoteToAdmin(t.db, admin.id);
      const user = await withTotp();
      const app = await createAppPassword(t.http, user.aal2, 'Old mobile app');
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [user.id]);
      expect((await t.http.post('/api/login', { username: user.email, pwd: app.password }, client())).status).not.toBe(200);
      const res = await t.http.get(`/v1/admin/events?userId=${user.id}&limit=1`, { token: admin.accessToken });
      expect(res.body.items).toEqual([expect.objectContaining({ type: 'sign_in.failed', surface: '003', ip, actorId: null, details: { reason: 'blocked' } })]);
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM security_events WHERE user_id = $1 AND type = 'app_password.used'`, [user.id]);
      expect(n).toBe(0);
      const [row] = await t.db.query(`SELECT last_used_at FROM credentials WHERE id = $1`, [app.id]);
      expect(row.last_used_at).toBeNull();
    });

    it('a password reset deletes them: app_password.revoked (password_reset)', async () => {
      const user = await withTotp();
      await createAppPassword(t.http, user.aal2, 'Old mobile app');
      const before = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email: user.email });
      const mail = await t.mail.waitFor((m) => !before.has(m) && m.to === user.email && m.subject === 'Reset your password');
      const newPassword = 'A brand new passphrase 9';
      expect((await t.http.post('/v1/auth/password/reset', { email: user.email, code: codeIn(mail.text), password: newPassword }, client())).status).toBe(204);
      const signedIn = await t.http.post('/v1/auth/login', { login: user.email, password: newPassword });
      await forgetTotpUse(t.db, user.id);
      const token = (await t.http.post('/v1/auth/login/mfa', { challengeId: signedIn.body.challengeId, totp: totpCode(user.secret) })).body.accessToken;
      expect(await myEvents(token, 'app_password.revoked')).toEqual([
        expect.objectContaining({ actor: 'self', ...fromThisClient(), details: { name: 'Old mobile app', reason: 'password_reset' } }),
      ]);
    });
  });

  describe('the same transaction as the change', () => {
    afterEach(() => t.db.query(`DROP TRIGGER IF EXISTS refuse_mfa_event ON security_events`));

    /** Makes every insert of this event type fail (only those with this `details.factor`, when given). */
    async function refuse(type: string, factor?: string): Promise<void> {
      const which = factor ? `NEW.type = '${type}' AND NEW.details->>'factor' = '${factor}'` : `NEW.type = '${type}'`;
      await t.db.query(`
        CREATE OR REPLACE FUNCTION refuse_mfa_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF ${which} THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`);
      await t.db.query(`CREATE TRIGGER refuse_mfa_event BEFORE INSERT ON security_events FOR EACH ROW EXECUTE FUNCTION refuse_mfa_event()`);
    }

    it('a factor.added that cannot be written undoes the enrolment (and its recovery codes)', async () => {
      const user = await owner();
      const started = await t.http.post('/v1/me/factors/totp', {}, { token: user.accessToken });
      await refuse('factor.added', 'totp');
      expect((await t.http.post('/v1/me/factors/totp/confirm', { code: totpCode(started.body.secret) }, { token: user.accessToken })).status).toBe(500);
      expect((await t.http.get('/v1/me/factors', { token: user.accessToken })).body).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
    });

    it('a challenge.failed that cannot be written undoes the spent try and the lockout count', async () => {
      const user = await withTotp();
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      await refuse('challenge.failed');
      expect((await t.http.post('/v1/auth/login/mfa', { challengeId: login.body.challengeId, totp: wrongCode(user.secret) })).status).toBe(500);
      expect((await lockState(t.db, user.id)).failed_count).toBe(0);
      const [challenge] = await t.db.query(`SELECT attempts FROM mfa_challenges WHERE id = $1`, [login.body.challengeId]);
      expect(challenge.attempts).toBe(0);
    });

    it('an app_password.created or app_password.used that cannot be written undoes the creation, or the use and the sign-in', async () => {
      const user = await withTotp();
      const app = await createAppPassword(t.http, user.aal2, 'Old mobile app');
      await refuse('app_password.created');
      expect((await t.http.post('/v1/me/app-passwords', { name: 'Tablet' }, { token: user.aal2 })).status).toBe(500);
      expect((await t.http.get('/v1/me/app-passwords', { token: user.aal2 })).body.map((a: { name: string }) => a.name)).toEqual(['Old mobile app']);

      await t.db.query(`DROP TRIGGER refuse_mfa_event ON security_events`);
      await refuse('app_password.used');
      expect((await t.http.post('/api/login', { username: user.email, pwd: app.password })).status).toBe(500);
      const [row] = await t.db.query(`SELECT last_used_at FROM credentials WHERE id = $1`, [app.id]);
      expect(row.last_used_at).toBeNull();
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM sessions WHERE user_id = $1 AND credential_id = $2`, [user.id, app.id]);
      expect(n).toBe(0);
    });
  });
});
