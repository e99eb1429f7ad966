import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { expectProblem } from './support/expect';
import { codeIn } from './support/mail';
import { createAppPassword, enrolTotp, forgetTotpUse, signInWithTotp, stepUpWithTotp } from './support/mfa';
import { jwtPayload, markContactsVerified, promoteToAdmin, registerAndLogin, SignedInUser } from './support/users';

/**
 * Issue 12 on the five legacy surfaces, whose documents have no second step: an account with a
 * second factor signs in on 001, 002 and 003 with an app password and not with its account password
 * (each surface's own "invalid credentials" answer, plus a hint); 000 and 004 have no sign-in and
 * take the token those give. Revoking an app password ends the sessions it opened, on every surface.
 * Also the administrator's view and removal of a user's factors.
 */
describe('second factors and the legacy surfaces', () => {
  let t: DeliveryTestApp;
  beforeAll(async () => (t = await startAppWithDelivery()));
  afterAll(() => t.close());

  interface MfaUser extends SignedInUser {
    secret: string;
    /** An aal2 access token of the /v1 session. */
    aal2: string;
    app: { id: string; password: string };
  }

  /** An account with a verified e-mail, TOTP, and one app password. */
  async function mfaUser(): Promise<MfaUser> {
    const user = await registerAndLogin(t.http);
    await markContactsVerified(t.db, user.id);
    const { secret } = await enrolTotp(t.http, user.accessToken);
    const aal2 = await stepUpWithTotp(t.http, user.accessToken, secret);
    await forgetTotpUse(t.db, user.id);
    return { ...user, secret, aal2, app: await createAppPassword(t.http, aal2, 'Old mobile app') };
  }

  const signIn = {
    '001': (login: string, password: string) => t.http.post('/auth/login', { email_or_name: login, password, remember_me: false }),
    '002': (email: string, password: string) => t.http.post('/users/auth/token/', { email, password }),
    '003': (login: string, password: string) => t.http.post('/api/login', { username: login, pwd: password, remember: false }),
  };
  const tokenOf = {
    '001': (res: { body: any }) => res.body.data.token as string,
    '002': (res: { body: any }) => res.body.access as string,
    '003': (res: { body: any }) => res.body.data.token as string,
  };
  const HINT = 'This account uses two-step verification: sign in here with an app password';

  describe('signing in with an app password, and not with the account password', () => {
    it('001 /auth/login', async () => {
      const user = await mfaUser();
      const ok = await signIn['001'](user.username, user.app.password);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ status: 'success', data: { token: expect.any(String), 'token-expiry': 86400 } });
      expect(jwtPayload(tokenOf['001'](ok))).toMatchObject({ sub: user.id, amr: ['app-password'], acr: 'aal1' });

      const refused = await signIn['001'](user.username, user.password);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ status: 'error', message: expect.stringMatching(/^wrong login or password\. /) });
      expect(refused.body.message).toContain(HINT);
      // A wrong password gets the plain answer (the hint only follows the right one, as /v1's challenge does).
      expect((await signIn['001'](user.username, 'not the password')).body).toEqual({ status: 'error', message: 'wrong login or password' });
    });

    it('002 /users/auth/token/', async () => {
      const user = await mfaUser();
      const ok = await signIn['002'](user.email, user.app.password.toUpperCase());
      expect(ok.status).toBe(200);
      expect(ok.body).toEqual({ refresh: expect.any(String), access: expect.any(String), expired_at: 900 });
      const refused = await signIn['002'](user.email, user.password);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({
        detail: `No active account found with the given credentials. ${HINT} (create one in your account security settings), not the account password.`,
      });
      expect((await signIn['002'](user.email, 'not the password')).body).toEqual({ detail: 'No active account found with the given credentials' });
    });

    it('003 /api/login', async () => {
      const user = await mfaUser();
      const ok = await signIn['003'](user.email, user.app.password);
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ status: 'OK', msg: 'success', data: { token: expect.any(String) } });
      const refused = await signIn['003'](user.email, user.password);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({ status: 'ERR', msg: expect.stringContaining(HINT) });
    });

    it("000 and 004 (no sign-in route) take the token an app password got; 004's current password is the account password, never an app password", async () => {
      const user = await mfaUser();
      const token = tokenOf['003'](await signIn['003'](user.username, user.app.password));
      const profile = await t.http.post('/api/users/profile', {}, { token });
      expect(profile.status).toBe(200);
      expect(profile.body).toMatchObject({ id: user.id, email: user.email });

      const withAppPassword = await t.http.patch('/me/password', { password: user.app.password, newPassword: 'A brand new passphrase 9' }, { token });
      expect(withAppPassword.status).toBe(403);
      expect(withAppPassword.body).toMatchObject({ code: 21014 });
      const changed = await t.http.patch('/me/password', { password: user.password, newPassword: 'A brand new passphrase 9' }, { token });
      expect(changed.status).toBe(200);
      expect(changed.text).toBe('null');
      // The change ended every other session, the /v1 one included; the app password itself still signs in.
      expect((await t.http.get('/v1/me', { token: user.aal2 })).status).toBe(401);
      expect((await signIn['001'](user.email, user.app.password)).status).toBe(200);
    });

    it('/v1 never takes an app password', async () => {
      const user = await mfaUser();
      expectProblem(await t.http.post('/v1/auth/login', { login: user.email, password: user.app.password }), 401, 'InvalidCredentials');
    });

    it('the sessions it opened remember it: amr app-password, aal1; sensitive /v1 changes need a step-up', async () => {
      const user = await mfaUser();
      const legacy = tokenOf['002'](await signIn['002'](user.email, user.app.password));
      const sessions = await t.http.get('/v1/me/sessions', { token: user.aal2 });
      expect(sessions.body.find((s: { id: string }) => s.id === jwtPayload(legacy).sid)).toMatchObject({
        amr: ['app-password'],
        aal: 'aal1',
        appPasswordId: user.app.id,
      });
      expect((await t.http.get('/v1/me', { token: legacy })).status).toBe(200);
      expectProblem(await t.http.post('/v1/me/app-passwords', { name: 'another', currentPassword: user.password }, { token: legacy }), 403, 'StepUpRequired');
    });

    it('wrong app passwords count toward the lockout like wrong passwords; a locked account is refused even with the right one', async () => {
      const user = await mfaUser();
      for (let i = 0; i < 10; i++) expect((await signIn['001'](user.email, `wrong-${i}`)).status).toBe(401);
      const locked = await signIn['003'](user.email, user.app.password);
      expect(locked.status).toBe(429);
      expect(locked.body.status).toBe('ERR');
    });

    it('an account without a second factor has no app passwords (409) and signs in with its password as before', async () => {
      const user = await registerAndLogin(t.http);
      expectProblem(await t.http.post('/v1/me/app-passwords', { name: 'x' }, { token: user.accessToken }), 409, 'NoSecondFactor');
      expect((await signIn['001'](user.email, user.password)).status).toBe(200);
    });
  });

  describe('revoking', () => {
    it('revoking an app password ends every session it opened, on every surface; other sessions and app passwords stay', async () => {
      const user = await mfaUser();
      const second = await createAppPassword(t.http, user.aal2, 'Tablet');
      const tokens = {
        '001': tokenOf['001'](await signIn['001'](user.email, user.app.password)),
        '002': await signIn['002'](user.email, user.app.password),
        '003': tokenOf['003'](await signIn['003'](user.email, user.app.password)),
      };
      const tablet = tokenOf['001'](await signIn['001'](user.email, second.password));
      const listed = await t.http.get('/v1/me/app-passwords', { token: user.aal2 });
      expect(listed.body).toEqual([
        { id: user.app.id, name: 'Old mobile app', createdAt: expect.any(String), lastUsedAt: expect.any(String) },
        { id: second.id, name: 'Tablet', createdAt: expect.any(String), lastUsedAt: expect.any(String) },
      ]);
      expect(listed.text).not.toContain(user.app.password);

      expect((await t.http.delete(`/v1/me/app-passwords/${user.app.id}`, undefined, { token: user.accessToken })).status).toBe(204);

      expect((await t.http.get(`/${user.id}`, { token: tokens['001'] })).status).toBe(401);
      expect((await t.http.get('/users/user/', { token: tokens['002'].body.access })).status).toBe(401);
      expect((await t.http.post('/users/auth/token/refresh/', { refresh: tokens['002'].body.refresh })).status).toBe(401);
      expect((await t.http.get('/api/profile_settings', { token: tokens['003'] })).status).toBe(401);
      expect((await t.http.post('/api/users/profile', {}, { token: tokens['003'] })).status).toBe(401);
      expect(
        (await t.http.patch('/me/password', { password: user.password, newPassword: 'A brand new passphrase 9' }, { token: tokens['001'] })).body,
      ).toMatchObject({ code: 21015 });
      // It no longer signs in; the other app password and the /v1 session are untouched.
      expect((await signIn['002'](user.email, user.app.password)).body).toEqual({ detail: 'No active account found with the given credentials' });
      expect((await t.http.get(`/${user.id}`, { token: tablet })).status).toBe(200);
      expect((await t.http.get('/v1/me', { token: user.aal2 })).status).toBe(200);
      expectProblem(await t.http.delete(`/v1/me/app-passwords/${user.app.id}`, undefined, { token: user.accessToken }), 404, 'NotFound');
    });

    it('removing the last factor takes the app passwords (their sessions end): legacy takes the account password again', async () => {
      const user = await mfaUser();
      const legacy = tokenOf['001'](await signIn['001'](user.email, user.app.password));
      const factorId = (await t.http.get('/v1/me/factors', { token: user.aal2 })).body.factors[0].id;
      expect((await t.http.delete(`/v1/me/factors/${factorId}`, {}, { token: user.aal2 })).status).toBe(204);
      expect((await t.http.get(`/${user.id}`, { token: legacy })).status).toBe(401);
      expect((await t.http.get('/v1/me/app-passwords', { token: user.aal2 })).body).toEqual([]);
      expect((await signIn['001'](user.email, user.password)).status).toBe(200);
      expect((await signIn['001'](user.email, user.app.password)).status).toBe(401);
    });

    it('a password reset deletes the app passwords (a recovery from a possible takeover); the second factor stays', async () => {
      const user = await mfaUser();
      const before = new Set(t.mail.messages);
      await t.http.post('/v1/auth/password/forgot', { email: user.email });
      const mail = await t.mail.waitFor((m) => !before.has(m) && m.to === user.email && m.subject === 'Reset your password');
      expect((await t.http.post('/v1/auth/password/reset', { email: user.email, code: codeIn(mail.text), password: 'A brand new passphrase 9' })).status).toBe(
        204,
      );
      expect((await t.db.query(`SELECT count(*)::int AS n FROM credentials WHERE user_id = $1 AND type = 'app-password'`, [user.id]))[0].n).toBe(0);
      expect((await signIn['001'](user.email, user.app.password)).status).toBe(401);
      expect((await t.http.post('/v1/auth/login', { login: user.email, password: 'A brand new passphrase 9' })).body.mfaRequired).toBe(true);
    });
  });

  describe('administrators', () => {
    async function admin(): Promise<string> {
      const user = await registerAndLogin(t.http);
      await promoteToAdmin(t.db, user.id);
      return user.accessToken;
    }

    it('see whether a user has factors (never a secret)', async () => {
      const user = await mfaUser();
      const res = await t.http.get(`/v1/admin/users/${user.id}/factors`, { token: await admin() });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        enabled: true,
        factors: [{ id: expect.any(String), type: 'totp', name: 'Authenticator app', createdAt: expect.any(String), lastUsedAt: expect.any(String) }],
        recoveryCodesLeft: 10,
        appPasswords: 1,
      });
      expect(res.text).not.toContain(user.secret);
      expectProblem(await t.http.get(`/v1/admin/users/${user.id}/factors`, { token: user.aal2 }), 403, 'Forbidden');
      expectProblem(await t.http.get('/v1/admin/users/00000000-0000-4000-8000-000000000000/factors', { token: await admin() }), 404, 'UserNotFound');
    });

    it('remove every factor, recovery code and app password of a user: the user is told and every session ends', async () => {
      const user = await mfaUser();
      const legacy = tokenOf['003'](await signIn['003'](user.email, user.app.password));
      const other = await signInWithTotp(t.http, user.email, user.password, user.secret);
      expect((await t.http.delete(`/v1/admin/users/${user.id}/factors`, undefined, { token: await admin() })).status).toBe(204);

      for (const token of [user.aal2, user.accessToken, legacy, other.accessToken]) expect((await t.http.get('/v1/me', { token })).status).toBe(401);
      const notice = await t.mail.waitFor((m) => m.to === user.email && m.subject === 'The second factors of your account were removed');
      expect(notice.text).toContain('An administrator removed every second factor');
      const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM credentials WHERE user_id = $1 AND type <> 'password'`, [user.id]);
      expect(n).toBe(0);
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(login.body.accessToken).toEqual(expect.any(String));
    });
  });
});
