import { startApp, TestApp } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { expectProblem } from './support/expect';
import { lockState, setLock } from './support/lockout';
import { ReceivedMail } from './support/mail';
import { awayFromStepBoundary, enrolTotp, forgetTotpUse, signInWithTotp, stepUpWithTotp, totpCode } from './support/mfa';
import { jwtPayload, markContactsVerified, registerAndLogin, SignedInUser } from './support/users';

/**
 * Issue 12, TOTP and recovery codes on /v1, over real HTTP with real PostgreSQL and SMTP: enrolment,
 * the challenged login, drift, replay, wrong codes counted toward the lockout, the challenge's 5
 * minutes and 5 tries, recovery codes single use, step-up, and the notices (SPEC §9 rule 3).
 */
describe('TOTP second factor (/v1)', () => {
  let t: DeliveryTestApp;
  /** A second instance on the same database, for "any instance answers" (closed with the first: apps in one process share TypeORM's data source). */
  let other: TestApp | undefined;
  beforeAll(async () => (t = await startAppWithDelivery()));
  afterAll(async () => {
    await other?.close();
    await t.close();
  });

  /** A fresh account with a verified e-mail (so notices have somewhere to go). */
  async function owner(): Promise<SignedInUser> {
    const user = await registerAndLogin(t.http);
    await markContactsVerified(t.db, user.id);
    return user;
  }

  /** An account with an authenticator app, its secret and recovery codes; the TOTP step used by the enrolment is forgotten. */
  async function withTotp(): Promise<SignedInUser & { secret: string; recoveryCodes: string[] }> {
    const user = await owner();
    const enrolled = await enrolTotp(t.http, user.accessToken);
    await forgetTotpUse(t.db, user.id);
    return { ...user, ...enrolled };
  }

  const login = (user: SignedInUser, password = user.password) => t.http.post('/v1/auth/login', { login: user.email, password });
  const answer = (challengeId: string, proof: Record<string, unknown>) => t.http.post('/v1/auth/login/mfa', { challengeId, ...proof });
  const mailTo = (user: SignedInUser, subject: string): Promise<ReceivedMail> => t.mail.waitFor((m) => m.to === user.email && m.subject === subject);

  describe('enrolment', () => {
    it('gives a secret, its otpauth:// URI and an SVG QR code; the secret is stored encrypted, not in the clear', async () => {
      const user = await owner();
      const res = await t.http.post('/v1/me/factors/totp', {}, { token: user.accessToken });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ secret: expect.stringMatching(/^[A-Z2-7]{32}$/), expiresIn: expect.any(Number) });
      expect(res.body.otpauthUri).toBe(
        `otpauth://totp/Identity%20service:${encodeURIComponent(user.email)}?secret=${res.body.secret}&issuer=Identity%20service`,
      );
      expect(Buffer.from(res.body.qrCode.replace(/^data:image\/svg\+xml;base64,/, ''), 'base64').toString()).toMatch(/^<svg /);
      const [row] = await t.db.query(`SELECT type, secret FROM credentials WHERE user_id = $1 AND type LIKE 'totp%'`, [user.id]);
      expect(row.type).toBe('totp-pending');
      expect(row.secret).toMatch(/^v1\./);
      expect(row.secret).not.toContain(res.body.secret);
    });

    it('confirms with a first code: 10 recovery codes once, a notice to the verified e-mail, and login asks for a second step', async () => {
      const user = await owner();
      const started = await t.http.post('/v1/me/factors/totp', {}, { token: user.accessToken });
      expectProblem(
        await t.http.post('/v1/me/factors/totp/confirm', { code: totpCode(started.body.secret, 3) }, { token: user.accessToken }),
        400,
        'InvalidCode',
      );
      const confirmed = await t.http.post('/v1/me/factors/totp/confirm', { code: totpCode(started.body.secret) }, { token: user.accessToken });
      expect(confirmed.status).toBe(200);
      expect(confirmed.body.factor).toMatchObject({ type: 'totp', name: 'Authenticator app' });
      expect(confirmed.body.recoveryCodes).toHaveLength(10);
      expect(new Set(confirmed.body.recoveryCodes).size).toBe(10);
      for (const code of confirmed.body.recoveryCodes) expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
      // Stored hashed: no code in the clear.
      const stored = await t.db.query(`SELECT secret FROM credentials WHERE user_id = $1 AND type = 'recovery-code'`, [user.id]);
      expect(stored).toHaveLength(10);
      for (const { secret } of stored) expect(confirmed.body.recoveryCodes.map((c: string) => c.replace(/-/g, ''))).not.toContain(secret);

      const notice = await mailTo(user, 'A second factor was added to your account');
      expect(notice.text).toContain('an authenticator app');

      const factors = await t.http.get('/v1/me/factors', { token: user.accessToken });
      expect(factors.body).toMatchObject({ enabled: true, recoveryCodesLeft: 10, appPasswords: 0, factors: [{ type: 'totp' }] });
      const res = await login(user);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ mfaRequired: true, challengeId: expect.any(String), methods: ['totp', 'recovery'], expiresIn: 300, webauthn: null });
      expect(res.body.accessToken).toBeUndefined();
      expect(res.body.refreshToken).toBeUndefined();
    });

    it('a second authenticator app is 409 AlreadyEnrolled', async () => {
      const user = await withTotp();
      const token = await stepUpWithTotp(t.http, user.accessToken, user.secret);
      expectProblem(await t.http.post('/v1/me/factors/totp', {}, { token }), 409, 'AlreadyEnrolled');
    });

    it('needs fresh proof: a session that signed in long ago needs the current password (SPEC §9 rule 4)', async () => {
      const user = await owner();
      await t.db.query(`UPDATE sessions SET created_at = now() - interval '1 hour' WHERE id = $1`, [user.sessionId]);
      const stale = (await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).body.accessToken;
      expectProblem(await t.http.post('/v1/me/factors/totp', {}, { token: stale }), 403, 'ReauthenticationRequired');
      expect((await t.http.post('/v1/me/factors/totp', { currentPassword: user.password }, { token: stale })).status).toBe(201);
    });
  });

  describe('the challenged login', () => {
    it('the right code gives the pair; the access token carries amr ["pwd","otp"] and acr aal2, and the session lists them', async () => {
      const user = await withTotp();
      const challenge = await login(user);
      const res = await answer(challenge.body.challengeId, { totp: totpCode(user.secret) });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', user: { id: user.id } });
      expect(jwtPayload(res.body.accessToken)).toMatchObject({ sub: user.id, sid: res.body.sessionId, amr: ['pwd', 'otp'], acr: 'aal2' });
      const sessions = await t.http.get('/v1/me/sessions', { token: res.body.accessToken });
      expect(sessions.body.find((s: { id: string }) => s.id === res.body.sessionId)).toMatchObject({ amr: ['pwd', 'otp'], aal: 'aal2', appPasswordId: null });
      // A refresh keeps what the sign-in proved.
      const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: res.body.refreshToken });
      expect(jwtPayload(refreshed.body.accessToken)).toMatchObject({ amr: ['pwd', 'otp'], acr: 'aal2' });
    });

    it('accounts without a factor still sign in with the password alone: amr ["pwd"], acr aal1', async () => {
      const user = await owner();
      expect(jwtPayload(user.accessToken)).toMatchObject({ amr: ['pwd'], acr: 'aal1' });
    });

    it('a wrong password is the usual 401 and makes no challenge', async () => {
      const user = await withTotp();
      expectProblem(await login(user, 'not the password'), 401, 'InvalidCredentials');
    });

    it('drift: the code of the step before or after is accepted, two steps away is not', async () => {
      const user = await withTotp();
      await awayFromStepBoundary();
      for (const steps of [-1, 1]) {
        await forgetTotpUse(t.db, user.id);
        const challenge = await login(user);
        expect((await answer(challenge.body.challengeId, { totp: totpCode(user.secret, steps) })).status).toBe(200);
      }
      await forgetTotpUse(t.db, user.id);
      const challenge = await login(user);
      for (const steps of [-2, 2]) expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret, steps) }), 401, 'WrongSecondFactor');
    });

    it('replay: a code is accepted once, also on another challenge, and so is any earlier step', async () => {
      const user = await withTotp();
      const code = totpCode(user.secret);
      expect((await answer((await login(user)).body.challengeId, { totp: code })).status).toBe(200);
      expectProblem(await answer((await login(user)).body.challengeId, { totp: code }), 401, 'WrongSecondFactor');
      expectProblem(await answer((await login(user)).body.challengeId, { totp: totpCode(user.secret, -1) }), 401, 'WrongSecondFactor');
      // Two racing answers with the same fresh code: exactly one gets in.
      const [a, b] = [await login(user), await login(user)];
      const next = totpCode(user.secret, 1);
      const results = await Promise.all([answer(a.body.challengeId, { totp: next }), answer(b.body.challengeId, { totp: next })]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    });

    it('wrong codes count toward the lockout; 5 end the challenge; the right password does not reset the count', async () => {
      const user = await withTotp();
      const challenge = await login(user);
      for (let i = 1; i <= 4; i++) {
        const res = await answer(challenge.body.challengeId, { totp: totpCode(user.secret, 5) });
        expectProblem(res, 401, 'WrongSecondFactor');
        expect(res.body.detail).toContain(`${5 - i} ${5 - i === 1 ? 'try' : 'tries'} left`);
      }
      expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret, 5) }), 401, 'WrongSecondFactor');
      expect((await lockState(t.db, user.id)).failed_count).toBe(5);
      // Over: even the right code is refused now.
      expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret) }), 401, 'MfaChallengeInvalid');
      // The right password makes a new challenge but leaves the count alone; five more wrong codes lock the account.
      const second = await login(user);
      expect((await lockState(t.db, user.id)).failed_count).toBe(5);
      for (let i = 0; i < 5; i++) await answer(second.body.challengeId, { totp: totpCode(user.secret, 5) });
      const state = await lockState(t.db, user.id);
      expect(state.failed_count).toBe(10);
      expect(state.locked_until).not.toBeNull();
      const locked = await login(user);
      expectProblem(locked, 429, 'AccountLocked');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('during a lockout the right code on a live challenge does not sign in; once completed, a sign-in resets the count', async () => {
      const user = await withTotp();
      const challenge = await login(user);
      await setLock(t.db, user.id, 10, `now() + interval '1 minute'`);
      expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret) }), 429, 'AccountLocked');
      await setLock(t.db, user.id, 3, null);
      expect((await answer(challenge.body.challengeId, { totp: totpCode(user.secret) })).status).toBe(200);
      expect((await lockState(t.db, user.id)).failed_count).toBe(0);
    });

    it('a challenge lives 5 minutes', async () => {
      const user = await withTotp();
      const challenge = await login(user);
      const [row] = await t.db.query(`SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM mfa_challenges WHERE id = $1`, [
        challenge.body.challengeId,
      ]);
      expect(row.seconds).toBe(300);
      await t.db.query(`UPDATE mfa_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [challenge.body.challengeId]);
      expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret) }), 401, 'MfaChallengeInvalid');
    });

    it('an unknown challenge, or a method it did not offer (no try spent), or two proofs at once', async () => {
      const user = await withTotp();
      expectProblem(await answer('00000000-0000-4000-8000-000000000000', { totp: totpCode(user.secret) }), 401, 'MfaChallengeInvalid');
      const challenge = await login(user);
      const passkey = {
        id: 'AAAA',
        rawId: 'AAAA',
        type: 'public-key',
        response: { clientDataJSON: 'AA', authenticatorData: 'AA', signature: 'AA' },
        clientExtensionResults: {},
      };
      expectProblem(await answer(challenge.body.challengeId, { webauthn: passkey }), 400, 'ValidationFailed');
      expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret), recoveryCode: user.recoveryCodes[0] }), 400, 'ValidationFailed');
      expectProblem(await answer(challenge.body.challengeId, {}), 400, 'ValidationFailed');
      expect((await t.db.query(`SELECT attempts FROM mfa_challenges WHERE id = $1`, [challenge.body.challengeId]))[0].attempts).toBe(0);
      expect((await answer(challenge.body.challengeId, { totp: totpCode(user.secret) })).status).toBe(200);
    });

    it('any instance answers: the challenge lives in PostgreSQL', async () => {
      const user = await withTotp();
      const challenge = await login(user);
      other = await startApp({ SMTP_URL: t.mail.url, PUBLIC_URL: 'http://id.example.test' });
      const res = await other.http.post('/v1/auth/login/mfa', { challengeId: challenge.body.challengeId, totp: totpCode(user.secret) });
      expect(res.status).toBe(200);
      expect((await t.http.get('/v1/me', { token: res.body.accessToken })).status).toBe(200);
    });
  });

  describe('recovery codes', () => {
    it('each works once, sign-in says recovery in amr, and the owner is told how many are left', async () => {
      const user = await withTotp();
      const [first] = user.recoveryCodes;
      const res = await answer((await login(user)).body.challengeId, { recoveryCode: first.toUpperCase().replace(/-/g, ' ') });
      expect(res.status).toBe(200);
      expect(jwtPayload(res.body.accessToken)).toMatchObject({ amr: ['pwd', 'recovery'], acr: 'aal2' });
      const notice = await mailTo(user, 'A recovery code was used to sign in');
      expect(notice.text).toContain('Recovery codes left: 9.');
      expectProblem(await answer((await login(user)).body.challengeId, { recoveryCode: first }), 401, 'WrongSecondFactor');
      expect((await t.http.get('/v1/me/factors', { token: res.body.accessToken })).body.recoveryCodesLeft).toBe(9);
    });

    it('regenerating needs aal2, voids the old set and tells the owner', async () => {
      const user = await withTotp();
      expectProblem(await t.http.post('/v1/me/factors/recovery-codes', {}, { token: user.accessToken }), 403, 'StepUpRequired');
      const aal2 = await stepUpWithTotp(t.http, user.accessToken, user.secret);
      const res = await t.http.post('/v1/me/factors/recovery-codes', {}, { token: aal2 });
      expect(res.status).toBe(200);
      expect(res.body.codes).toHaveLength(10);
      await mailTo(user, 'New recovery codes were created');
      expectProblem(await answer((await login(user)).body.challengeId, { recoveryCode: user.recoveryCodes[1] }), 401, 'WrongSecondFactor');
      expect((await answer((await login(user)).body.challengeId, { recoveryCode: res.body.codes[0] })).status).toBe(200);
    });

    it('once all are used, the challenge no longer offers them', async () => {
      const user = await withTotp();
      await t.db.query(`UPDATE credentials SET last_used_at = now() WHERE user_id = $1 AND type = 'recovery-code'`, [user.id]);
      expect((await login(user)).body.methods).toEqual(['totp']);
    });
  });

  describe('step-up (SPEC §9 rule 4 with a factor)', () => {
    it('a password sign-in (aal1) of an account with a factor cannot make sensitive changes, even with the current password', async () => {
      const user = await withTotp();
      expect(jwtPayload(user.accessToken).acr).toBe('aal1');
      expectProblem(
        await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: 'Another long passphrase 7' }, { token: user.accessToken }),
        403,
        'StepUpRequired',
      );
      expectProblem(
        await t.http.post('/v1/me/email/change', { email: 'x@example.com', currentPassword: user.password }, { token: user.accessToken }),
        403,
        'StepUpRequired',
      );
      expectProblem(await t.http.delete('/v1/me', { currentPassword: user.password }, { token: user.accessToken }), 403, 'StepUpRequired');
      expectProblem(
        await t.http.post('/v1/me/app-passwords', { name: 'x', currentPassword: user.password }, { token: user.accessToken }),
        403,
        'StepUpRequired',
      );
      // A wrong current password is still WrongPassword (and counts).
      expectProblem(await t.http.delete('/v1/me', { currentPassword: 'not it' }, { token: user.accessToken }), 403, 'WrongPassword');
    });

    it('a step-up gives an aal2 token of the same session, which may; a refresh keeps it, and it goes stale after REAUTH_MAX_AGE', async () => {
      const user = await withTotp();
      const challenge = await t.http.post('/v1/me/step-up', {}, { token: user.accessToken });
      expect(challenge.body).toMatchObject({ mfaRequired: true, methods: ['totp', 'recovery'] });
      expectProblem(
        await t.http.post('/v1/me/step-up/verify', { challengeId: challenge.body.challengeId, totp: totpCode(user.secret, 4) }, { token: user.accessToken }),
        401,
        'WrongSecondFactor',
      );
      const res = await t.http.post(
        '/v1/me/step-up/verify',
        { challengeId: challenge.body.challengeId, totp: totpCode(user.secret) },
        { token: user.accessToken },
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ sessionId: user.sessionId, acr: 'aal2', tokenType: 'Bearer' });
      expect(jwtPayload(res.body.accessToken)).toMatchObject({ sid: user.sessionId, amr: ['pwd', 'otp'], acr: 'aal2' });
      expect(
        (await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: 'Another long passphrase 7' }, { token: res.body.accessToken }))
          .status,
      ).toBe(204);
      const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });
      expect(jwtPayload(refreshed.body.accessToken).acr).toBe('aal2');

      await t.db.query(`UPDATE sessions SET stepped_up_at = now() - interval '10 minutes' WHERE id = $1`, [user.sessionId]);
      const stale = (await t.http.post('/v1/auth/refresh', { refreshToken: refreshed.body.refreshToken })).body.accessToken;
      expectProblem(await t.http.delete('/v1/me', {}, { token: stale }), 403, 'StepUpRequired');
    });

    it('a step-up challenge belongs to its session', async () => {
      const user = await withTotp();
      const other = await signInWithTotp(t.http, user.email, user.password, user.secret, 1);
      const challenge = await t.http.post('/v1/me/step-up', {}, { token: user.accessToken });
      expectProblem(
        await t.http.post('/v1/me/step-up/verify', { challengeId: challenge.body.challengeId, totp: totpCode(user.secret) }, { token: other.accessToken }),
        401,
        'MfaChallengeInvalid',
      );
      // Nor does a sign-in challenge step up a session, or the other way round.
      const signIn = await login(user);
      expectProblem(
        await t.http.post('/v1/me/step-up/verify', { challengeId: signIn.body.challengeId, totp: totpCode(user.secret) }, { token: user.accessToken }),
        401,
        'MfaChallengeInvalid',
      );
      expectProblem(await answer(challenge.body.challengeId, { totp: totpCode(user.secret) }), 401, 'MfaChallengeInvalid');
    });

    it('an account without a factor has no step-up (409) and keeps the password rule', async () => {
      const user = await owner();
      expectProblem(await t.http.post('/v1/me/step-up', {}, { token: user.accessToken }), 409, 'NoSecondFactor');
    });
  });

  describe('removing the factor', () => {
    it('needs aal2; the owner is told; login asks for the password alone again; recovery codes go', async () => {
      const user = await withTotp();
      const factorId = (await t.http.get('/v1/me/factors', { token: user.accessToken })).body.factors[0].id;
      expectProblem(await t.http.delete(`/v1/me/factors/${factorId}`, {}, { token: user.accessToken }), 403, 'StepUpRequired');
      const aal2 = await stepUpWithTotp(t.http, user.accessToken, user.secret);
      expect((await t.http.patch(`/v1/me/factors/${factorId}`, { name: 'Phone' }, { token: aal2 })).body).toMatchObject({ id: factorId, name: 'Phone' });
      expect((await t.http.delete(`/v1/me/factors/${factorId}`, {}, { token: aal2 })).status).toBe(204);
      const notice = await mailTo(user, 'A second factor was removed from your account');
      expect(notice.text).toContain('no longer asks for a second factor');
      const res = await login(user);
      expect(res.body.accessToken).toEqual(expect.any(String));
      expect((await t.http.get('/v1/me/factors', { token: res.body.accessToken })).body).toEqual({
        enabled: false,
        factors: [],
        recoveryCodesLeft: 0,
        appPasswords: 0,
      });
      expectProblem(await t.http.delete(`/v1/me/factors/${factorId}`, {}, { token: aal2 }), 404, 'NotFound');
    });
  });
});
