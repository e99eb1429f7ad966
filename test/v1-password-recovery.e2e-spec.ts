import { setLock } from './support/lockout';
import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { expectProblem } from './support/expect';
import { codeIn, linkIn, MailServer, ReceivedMail } from './support/mail';
import { SmsReceiver } from './support/sms';
import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { registerAndLogin, SignedInUser, markContactsVerified } from './support/users';

const NEW_PASSWORD = 'A brand-new passphrase 2026';

/** Forgot password / reset through /v1 with real delivery, and the anti-enumeration promise. */
describe('/v1 password recovery', () => {
  let t: DeliveryTestApp;
  let mail: MailServer;
  let sms: SmsReceiver;

  beforeAll(async () => {
    t = await startAppWithDelivery();
    ({ mail, sms } = t);
  });
  afterAll(() => t.close());

  const login = (identifier: string, password: string) => t.http.post('/v1/auth/login', { login: identifier, password });

  /** A user whose registration mail has arrived, so the next mail to them is the reset mail. */
  async function user(): Promise<SignedInUser> {
    const signedIn = await registerAndLogin(t.http);
    await mail.waitFor((m) => m.to === signedIn.email);
    return signedIn;
  }

  async function forgotByEmail(who: SignedInUser): Promise<{ mail: ReceivedMail; code: string; token: string }> {
    const res = await t.http.post('/v1/auth/password/forgot', { email: who.email });
    expect(res.status).toBe(202);
    const message = await mail.waitFor((m) => m.to === who.email && m.subject === 'Reset your password');
    const link = linkIn(message.text, '/v1/auth/password/reset');
    return { mail: message, code: codeIn(message.text), token: new URL(link).searchParams.get('token')! };
  }

  describe('POST /v1/auth/password/forgot', () => {
    it('e-mails a code and a link (1 h) and answers 202', async () => {
      const anna = await user();
      const res = await t.http.post('/v1/auth/password/forgot', { email: anna.email.toUpperCase() });

      expect(res.status).toBe(202);
      expect(res.body).toEqual({ message: 'If an account with this address exists, a message is on its way.', retryAfter: 60 });
      const message = await mail.waitFor((m) => m.to === anna.email && m.subject === 'Reset your password');
      expect(codeIn(message.text)).toMatch(/^\d{6}$/);
      expect(linkIn(message.text, '/v1/auth/password/reset')).toMatch(new RegExp(`^${PUBLIC_URL}/v1/auth/password/reset\\?token=[A-Za-z0-9_-]{43}$`));
      expect(message.text).toContain('valid for 1 hour');
      expect(message.text).toContain('valid for 10 minutes');
      const lifetimes = await t.secretLifetimes(anna.id);
      expect(lifetimes.filter((secret) => secret.purpose === 'password-reset')).toEqual([
        { purpose: 'password-reset', kind: 'code', target: anna.email, seconds: 600 },
        { purpose: 'password-reset', kind: 'link', target: anna.email, seconds: 3_600 },
      ]);
    });

    it('answers an unknown address exactly like a known one, and sends nothing', async () => {
      const anna = await user();
      const nobody = `${unique('nobody')}@example.com`;

      const known = await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      const unknown = await t.http.post('/v1/auth/password/forgot', { email: nobody });

      expect(unknown.status).toBe(known.status);
      expect(unknown.body).toEqual(known.body);
      expect(unknown.headers.get('content-type')).toBe(known.headers.get('content-type'));
      await mail.waitFor((m) => m.to === anna.email && m.subject === 'Reset your password');
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = $1`, [nobody]);
      expect(queued[0].n).toBe(0);
    });

    it('the cooldown answers the same 429 for known and unknown addresses', async () => {
      const anna = await user();
      const nobody = `${unique('nobody')}@example.com`;
      await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      await t.http.post('/v1/auth/password/forgot', { email: nobody });

      const known = await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      const unknown = await t.http.post('/v1/auth/password/forgot', { email: nobody });

      expectProblem(known, 429, 'ResendTooSoon');
      expectProblem(unknown, 429, 'ResendTooSoon');
      expect({ ...unknown.body, instance: undefined }).toEqual({ ...known.body, instance: undefined });
      expect(unknown.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    });

    it('a blocked account is answered like an unknown one and gets no message', async () => {
      const blocked = await user();
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [blocked.id]);
      const nobody = `${unique('nobody')}@example.com`;

      const res = await t.http.post('/v1/auth/password/forgot', { email: blocked.email });
      const unknown = await t.http.post('/v1/auth/password/forgot', { email: nobody });

      expect(res.status).toBe(202);
      expect({ status: res.status, body: res.body }).toEqual({ status: unknown.status, body: unknown.body });
      expect(res.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
      // Whatever those two set off is done by the time a later reset mail to an active user is out.
      await forgotByEmail(await user());
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE user_id = $1 AND template = 'password-reset'`, [blocked.id]);
      expect(queued[0].n).toBe(0);
    });

    it("keeps its resend cooldown apart from verification's, on the same e-mail and the same phone", async () => {
      const anna = await user(); // the registration mail (e-mail verification) started its 60 s cooldown

      expect((await t.http.post('/v1/auth/password/forgot', { email: anna.email })).status).toBe(202);
      await mail.waitFor((m) => m.to === anna.email && m.subject === 'Reset your password');
      expectProblem(await t.http.post('/v1/me/email/verification', undefined, { token: anna.accessToken }), 429, 'ResendTooSoon');

      expect((await t.http.post('/v1/auth/password/forgot', { phone: anna.phone })).status).toBe(202);
      expect((await t.http.post('/v1/me/phone/verification', undefined, { token: anna.accessToken })).status).toBe(202);
      expectProblem(await t.http.post('/v1/auth/password/forgot', { phone: anna.phone }), 429, 'ResendTooSoon');
      expectProblem(await t.http.post('/v1/me/phone/verification', undefined, { token: anna.accessToken }), 429, 'ResendTooSoon');
      await sms.waitFor((m) => m.to === anna.phone && m.text.startsWith('Password reset code'));
      await sms.waitFor((m) => m.to === anna.phone && m.text.startsWith('Your confirmation code'));
    });

    it('400 for a body with neither e-mail nor phone, a bad e-mail or a bad phone', async () => {
      expectProblem(await t.http.post('/v1/auth/password/forgot', {}), 400, 'ValidationFailed');
      expectProblem(await t.http.post('/v1/auth/password/forgot', { email: 'not-an-email' }), 400, 'ValidationFailed');
      expectProblem(await t.http.post('/v1/auth/password/forgot', { phone: '12' }), 400, 'InvalidPhone');
      expectProblem(await t.http.post('/v1/auth/password/forgot', { raw: true }), 400, 'ValidationFailed');
    });
  });

  describe('POST /v1/auth/password/reset with the e-mailed code', () => {
    it('sets the password, ends every session, lets the new password in and e-mails a notice', async () => {
      const anna = await user();
      const { code } = await forgotByEmail(anna);

      const res = await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD });

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectProblem(await t.http.get('/v1/me', { token: anna.accessToken }), 401);
      expectProblem(await t.http.post('/v1/auth/refresh', { refreshToken: anna.refreshToken }), 401);
      expectProblem(await login(anna.email, GOOD_PASSWORD), 401, 'InvalidCredentials');
      expect((await login(anna.email, NEW_PASSWORD)).status).toBe(200);
      const notice = await mail.waitFor((m) => m.to === anna.email && m.subject === 'Your password was reset');
      expect(notice.text).not.toMatch(/\b\d{6}\b/);
    });

    it('marks the e-mail verified: the code reached it', async () => {
      const anna = await user();
      const { code } = await forgotByEmail(anna);
      await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD });

      const signedIn = await login(anna.email, NEW_PASSWORD);
      expect(signedIn.body.user.emailVerified).toBe(true);
    });

    it('refuses the same code twice, and the link after the code was used', async () => {
      const anna = await user();
      const { code, token } = await forgotByEmail(anna);
      expect((await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD })).status).toBe(204);

      expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: 'Yet another passphrase 1' }), 400, 'InvalidCode');
      expectProblem(await t.http.post('/v1/auth/password/reset', { token, password: 'Yet another passphrase 1' }), 400, 'InvalidCode');
      expect((await login(anna.email, NEW_PASSWORD)).status).toBe(200);
    });

    it('refuses a weak password before using the code, so the code still works', async () => {
      const anna = await user();
      const { code } = await forgotByEmail(anna);

      expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: 'password1' }), 400, 'WeakPassword');
      expect((await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD })).status).toBe(204);
    });

    it('voids the code after 5 wrong tries', async () => {
      const anna = await user();
      const { code } = await forgotByEmail(anna);
      const wrong = code === '999999' ? '888888' : '999999';
      for (let i = 0; i < 5; i++) {
        expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code: wrong, password: NEW_PASSWORD }), 400, 'InvalidCode');
      }

      expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD }), 400, 'InvalidCode');
      expect((await login(anna.email, GOOD_PASSWORD)).status).toBe(200);
    });

    it('refuses an expired code', async () => {
      const anna = await user();
      const { code } = await forgotByEmail(anna);
      await t.expireSecrets(anna.id);

      expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD }), 400, 'InvalidCode');
    });

    it('an unknown address gets the same answer as a wrong code', async () => {
      const anna = await user();
      await forgotByEmail(anna);

      const wrongCode = await t.http.post('/v1/auth/password/reset', { email: anna.email, code: '000000', password: NEW_PASSWORD });
      const unknown = await t.http.post('/v1/auth/password/reset', { email: `${unique('nobody')}@example.com`, code: '000000', password: NEW_PASSWORD });

      expectProblem(unknown, 400, 'InvalidCode');
      expect({ ...unknown.body, instance: undefined }).toEqual({ ...wrongCode.body, instance: undefined });
    });

    it('lifts a sign-in lockout', async () => {
      const anna = await user();
      await setLock(t.db, anna.id, 12, `now() + interval '10 minutes'`);
      expectProblem(await login(anna.email, GOOD_PASSWORD), 429, 'AccountLocked');
      const { code } = await forgotByEmail(anna);

      await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD });

      expect((await login(anna.email, NEW_PASSWORD)).status).toBe(200);
    });

    it('400 ValidationFailed without a code, without a password, or with neither address nor token', async () => {
      expectProblem(await t.http.post('/v1/auth/password/reset', { email: 'a@example.com', password: NEW_PASSWORD }), 400, 'ValidationFailed');
      expectProblem(await t.http.post('/v1/auth/password/reset', { email: 'a@example.com', code: '123456' }), 400, 'ValidationFailed');
      expectProblem(await t.http.post('/v1/auth/password/reset', { code: '123456', password: NEW_PASSWORD }), 400, 'ValidationFailed');
    });
  });

  describe('the e-mailed link', () => {
    it('GET checks the token without using it; POST {token, password} resets once', async () => {
      const anna = await user();
      const asked = Date.now();
      const { token } = await forgotByEmail(anna);

      const check = await t.http.get(`/v1/auth/password/reset?token=${token}`);
      expect(check.status).toBe(200);
      expect(check.body).toEqual({ valid: true, expiresAt: expect.any(String) });
      // The link was made after `asked` and before now: it ends an hour after some moment in between.
      const expiresAt = new Date(check.body.expiresAt).getTime();
      expect(expiresAt).toBeGreaterThanOrEqual(asked + 60 * 60_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 60 * 60_000);

      expect((await t.http.post('/v1/auth/password/reset', { token, password: NEW_PASSWORD })).status).toBe(204);
      expect((await login(anna.email, NEW_PASSWORD)).status).toBe(200);
      expectProblem(await t.http.post('/v1/auth/password/reset', { token, password: 'Yet another passphrase 1' }), 400, 'InvalidCode');
      expectProblem(await t.http.get(`/v1/auth/password/reset?token=${token}`), 400, 'InvalidCode');
    });

    it('refuses an expired link, a forged token and a weak password (leaving the link usable)', async () => {
      const anna = await user();
      const { token } = await forgotByEmail(anna);

      expectProblem(await t.http.post('/v1/auth/password/reset', { token, password: 'password1' }), 400, 'WeakPassword');
      expectProblem(await t.http.post('/v1/auth/password/reset', { token: 'B'.repeat(43), password: NEW_PASSWORD }), 400, 'InvalidCode');
      expect((await t.http.get(`/v1/auth/password/reset?token=${token}`)).status).toBe(200);

      await t.expireSecrets(anna.id);
      expectProblem(await t.http.post('/v1/auth/password/reset', { token, password: NEW_PASSWORD }), 400, 'InvalidCode');
    });

    it('a newer request voids the older link', async () => {
      const anna = await user();
      const { token: first } = await forgotByEmail(anna);
      await t.endCooldown(anna.email);
      const before = mail.mailsTo(anna.email).length;
      await t.http.post('/v1/auth/password/forgot', { email: anna.email });
      await mail.waitFor((m) => m.to === anna.email && mail.mailsTo(anna.email).length > before);

      expectProblem(await t.http.post('/v1/auth/password/reset', { token: first, password: NEW_PASSWORD }), 400, 'InvalidCode');
    });
  });

  describe('by phone (SMS code)', () => {
    it('sends an SMS code and resets with {phone, code, password}; every session ends', async () => {
      const anna = await user();

      const res = await t.http.post('/v1/auth/password/forgot', { phone: anna.phone.replace('+7', '8') });
      expect(res.status).toBe(202);
      expect(res.body.retryAfter).toBe(30);
      const message = await sms.waitFor((m) => m.to === anna.phone);
      expect(message.text).toMatch(/^Password reset code: \d{6}\. Valid for 10 minutes\./);
      const lifetimes = await t.secretLifetimes(anna.id);
      expect(lifetimes.filter((secret) => secret.purpose === 'password-reset')).toEqual([
        { purpose: 'password-reset', kind: 'code', target: anna.phone, seconds: 600 },
      ]);

      const reset = await t.http.post('/v1/auth/password/reset', { phone: anna.phone, code: codeIn(message.text), password: NEW_PASSWORD });

      expect(reset.status).toBe(204);
      expectProblem(await t.http.get('/v1/me', { token: anna.accessToken }), 401);
      const signedIn = await login(anna.phone, NEW_PASSWORD);
      expect(signedIn.status).toBe(200);
      expect(signedIn.body.user.phoneVerified).toBe(true);
    });

    it('an SMS code cannot be used with the e-mail address', async () => {
      const anna = await user();
      await t.http.post('/v1/auth/password/forgot', { phone: anna.phone });
      const code = codeIn((await sms.waitFor((m) => m.to === anna.phone)).text);

      expectProblem(await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD }), 400, 'InvalidCode');
    });

    it('an unknown phone is answered like a known one, and gets no SMS', async () => {
      const anna = await user();
      const nobody = uniquePhone();
      // The unknown phone first: whatever it set off is done by the time the known phone's SMS is out.
      const unknown = await t.http.post('/v1/auth/password/forgot', { phone: nobody });
      const known = await t.http.post('/v1/auth/password/forgot', { phone: anna.phone });

      expect(unknown.status).toBe(known.status);
      expect(unknown.body).toEqual(known.body);
      await sms.waitFor((m) => m.to === anna.phone);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = $1`, [nobody]);
      expect(queued[0].n).toBe(0);
      expect(sms.to(nobody)).toEqual([]);
    });
  });

  it('PUT /v1/me/password e-mails a "password changed" notice to the verified address, in the account\'s language', async () => {
    const anna = await registerAndLogin(t.http, { locale: 'ru' });
    await markContactsVerified(t.db, anna.id);

    await t.http.put('/v1/me/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, { token: anna.accessToken });

    const notice = await mail.waitFor((m) => m.to === anna.email && m.subject === 'Пароль изменён');
    expect(notice.text).toContain('только что был изменён');
  });

  it('never writes a code or link token into the log', async () => {
    const anna = await user();
    const { code, token } = await forgotByEmail(anna);
    await t.http.get(`/v1/auth/password/reset?token=${token}`);
    await t.http.post('/v1/auth/password/reset', { email: anna.email, code, password: NEW_PASSWORD });

    expect(t.logText()).not.toContain(token);
    expect(t.logText()).not.toMatch(new RegExp(`\\b${code}\\b`));
  });
});
