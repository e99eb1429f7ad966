import { VerificationHousekeeping } from '../src/verification/verification-housekeeping.service';
import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { ISO_DATE, expectProblem } from './support/expect';
import { codeIn, linkIn, MailServer } from './support/mail';
import { SmsReceiver } from './support/sms';
import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { registerAndLogin, SignedInUser } from './support/users';

/** E-mail and phone verification through /v1, with real delivery: an SMTP server and an SMS webhook receiver. */
describe('/v1 e-mail and phone verification', () => {
  /** The e-mail changed in one step, through 000's profile RPC (the same token works on every surface). */
  const changeEmailDirectly = (token: string, email: string) => t.http.post('/api/users/profile', { email }, { token });

  let t: DeliveryTestApp;
  let mail: MailServer;
  let sms: SmsReceiver;

  beforeAll(async () => {
    t = await startAppWithDelivery();
    ({ mail, sms } = t);
  });
  afterAll(() => t.close());

  /** The registration mail of a fresh /v1 user: one message with a code and a link. */
  async function registeredWithMail(overrides: Record<string, unknown> = {}) {
    const user = await registerAndLogin(t.http, overrides);
    const welcome = await mail.waitFor((m) => m.to === user.email);
    return { user, welcome, code: codeIn(welcome.text), link: linkIn(welcome.text, '/v1/auth/email/confirm') };
  }

  async function registerPhoneOnly(): Promise<{ accessToken: string }> {
    const phone = uniquePhone();
    expect((await t.http.post('/v1/auth/register', { phone, password: GOOD_PASSWORD })).status).toBe(201);
    const login = await t.http.post('/v1/auth/login', { login: phone, password: GOOD_PASSWORD });
    return { accessToken: login.body.accessToken };
  }

  async function requestEmailCode(user: SignedInUser): Promise<string> {
    await t.endCooldown(user.email);
    const sentBefore = mail.mailsTo(user.email).length;
    const res = await t.http.post('/v1/me/email/verification', undefined, { token: user.accessToken });
    expect(res.status).toBe(202);
    const message = await mail.waitFor((m) => m.to === user.email && mail.mailsTo(user.email).indexOf(m) >= sentBefore);
    return codeIn(message.text);
  }

  describe('registration', () => {
    it('e-mails one message with a code and a link to PUBLIC_URL, in English by default', async () => {
      const { user, welcome, code, link } = await registeredWithMail();

      expect(welcome.subject).toBe('Confirm your e-mail address');
      expect(code).toMatch(/^\d{6}$/);
      expect(link).toMatch(new RegExp(`^${PUBLIC_URL}/v1/auth/email/confirm\\?token=[A-Za-z0-9_-]{43}$`));
      expect(welcome.html).toContain(code);
      expect(welcome.from).toContain('no-reply@localhost');
      expect(mail.mailsTo(user.email)).toHaveLength(1);
    });

    it('stores the code for 10 minutes and the link for 24 hours, as the message says', async () => {
      const { user, welcome } = await registeredWithMail();

      expect(welcome.text).toContain('valid for 10 minutes');
      expect(welcome.text).toContain('valid for 24 hours');
      expect(await t.secretLifetimes(user.id)).toEqual([
        { purpose: 'email-verify', kind: 'code', target: user.email, seconds: 600 },
        { purpose: 'email-verify', kind: 'link', target: user.email, seconds: 86_400 },
      ]);
    });

    it('writes the message in Russian for Accept-Language: ru and remembers it as the locale', async () => {
      const email = `${unique('ru')}@example.com`;
      const res = await t.http.post('/v1/auth/register', { email, password: GOOD_PASSWORD }, { headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' } });
      expect(res.status).toBe(201);
      expect(res.body.locale).toBe('ru');

      const welcome = await mail.waitFor((m) => m.to === email);
      expect(welcome.subject).toBe('Подтвердите адрес электронной почты');
      expect(welcome.text).toContain('Код подтверждения');
    });

    it('sends nothing when the account has no e-mail', async () => {
      const phone = uniquePhone();
      const res = await t.http.post('/v1/auth/register', { phone, password: GOOD_PASSWORD });
      expect(res.status).toBe(201);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE user_id = $1`, [res.body.id]);
      expect(queued[0].n).toBe(0);
    });
  });

  describe('POST /v1/me/email/verification/confirm', () => {
    it('confirms with the code: 200 with the user, emailVerifiedAt set', async () => {
      const { user, code } = await registeredWithMail();

      const res = await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, emailVerified: true, emailVerifiedAt: expect.stringMatching(ISO_DATE) });
      const me = await t.http.get('/v1/me', { token: user.accessToken });
      expect(me.body.emailVerified).toBe(true);
    });

    it('refuses a used code, and a new request once verified is 409 AlreadyVerified', async () => {
      const { user, code } = await registeredWithMail();
      expect((await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken })).status).toBe(200);

      expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken }), 400, 'InvalidCode');
      await t.endCooldown(user.email);
      expectProblem(await t.http.post('/v1/me/email/verification', undefined, { token: user.accessToken }), 409, 'AlreadyVerified');
    });

    it('voids the code after 5 wrong tries: the right one no longer works', async () => {
      const { user, code } = await registeredWithMail();
      const wrong = code === '000000' ? '111111' : '000000';

      for (let i = 0; i < 5; i++) {
        expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code: wrong }, { token: user.accessToken }), 400, 'InvalidCode');
      }
      const res = await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken });

      expectProblem(res, 400, 'InvalidCode');
      expect((await t.http.get('/v1/me', { token: user.accessToken })).body.emailVerified).toBe(false);
    });

    it('accepts the right code after 4 wrong tries', async () => {
      const { user, code } = await registeredWithMail();
      const wrong = code === '000000' ? '111111' : '000000';
      for (let i = 0; i < 4; i++) await t.http.post('/v1/me/email/verification/confirm', { code: wrong }, { token: user.accessToken });

      expect((await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken })).status).toBe(200);
    });

    it('refuses an expired code with the same answer', async () => {
      const { user, code } = await registeredWithMail();
      await t.expireSecrets(user.id);

      const res = await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken });

      expectProblem(res, 400, 'InvalidCode');
      expect(res.body.detail).toBe('the code or link is wrong, expired or already used');
    });

    it('a new code voids the previous one', async () => {
      const { user, code: first } = await registeredWithMail();
      // One in a million new codes repeats the old one, which would prove nothing: ask again then.
      let second = await requestEmailCode(user);
      for (let attempt = 0; second === first && attempt < 3; attempt++) second = await requestEmailCode(user);
      expect(second).not.toBe(first);

      expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code: first }, { token: user.accessToken }), 400, 'InvalidCode');
      expect((await t.http.post('/v1/me/email/verification/confirm', { code: second }, { token: user.accessToken })).status).toBe(200);
    });

    it('a code proves only the address it went to: after an e-mail change it is refused, and the change clears the verification', async () => {
      const { user, code } = await registeredWithMail();
      // Verified earlier (say, through the link), while this code is still live and unused.
      await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [user.id]);
      expect((await t.http.get('/v1/me', { token: user.accessToken })).body.emailVerified).toBe(true);

      // A direct change, as the legacy surfaces make them (/v1 changes the e-mail in two steps).
      expect((await changeEmailDirectly(user.accessToken, `${unique('moved')}@example.com`)).status).toBe(200);
      expect((await t.http.get('/v1/me', { token: user.accessToken })).body).toMatchObject({ emailVerified: false, emailVerifiedAt: null });

      expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken }), 400, 'InvalidCode');
      expect((await t.http.get('/v1/me', { token: user.accessToken })).body).toMatchObject({ emailVerified: false, emailVerifiedAt: null });
    });

    it('refuses a code sent to the previous address', async () => {
      const { user, code } = await registeredWithMail();
      const newEmail = `${unique('moved')}@example.com`;
      expect((await changeEmailDirectly(user.accessToken, newEmail)).status).toBe(200);

      expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken }), 400, 'InvalidCode');
    });

    it('400 ValidationFailed for a code that is not 6 digits', async () => {
      const user = await registerAndLogin(t.http);
      for (const code of ['12345', '1234567', 'abcdef', 123456, null]) {
        expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken }), 400, 'ValidationFailed');
      }
    });

    it('401 without a token', async () => {
      expectProblem(await t.http.post('/v1/me/email/verification/confirm', { code: '123456' }), 401);
    });
  });

  describe('GET /v1/auth/email/confirm (the e-mailed link)', () => {
    it('confirms without sign-in, once', async () => {
      const { user, link } = await registeredWithMail();
      const path = link.slice(PUBLIC_URL.length);

      const res = await t.http.get(path);

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ email: expect.stringMatching(/^.\*.@example\.com$/), emailVerifiedAt: expect.stringMatching(ISO_DATE) });
      expect((await t.http.get('/v1/me', { token: user.accessToken })).body.emailVerified).toBe(true);
      expectProblem(await t.http.get(path), 400, 'InvalidCode');
    });

    it('refuses an expired link, a forged token and a missing token', async () => {
      const { user, link } = await registeredWithMail();
      await t.expireSecrets(user.id);

      expectProblem(await t.http.get(link.slice(PUBLIC_URL.length)), 400, 'InvalidCode');
      expectProblem(await t.http.get(`/v1/auth/email/confirm?token=${'A'.repeat(43)}`), 400, 'InvalidCode');
      expectProblem(await t.http.get('/v1/auth/email/confirm'), 400, 'InvalidCode');
    });

    it('refuses the link once the account changed its e-mail', async () => {
      const { user, link } = await registeredWithMail();
      await changeEmailDirectly(user.accessToken, `${unique('moved')}@example.com`);

      expectProblem(await t.http.get(link.slice(PUBLIC_URL.length)), 400, 'InvalidCode');
      expect((await t.http.get('/v1/me', { token: user.accessToken })).body.emailVerified).toBe(false);
    });

    it('using the code also voids the link', async () => {
      const { user, code, link } = await registeredWithMail();
      await t.http.post('/v1/me/email/verification/confirm', { code }, { token: user.accessToken });

      expectProblem(await t.http.get(link.slice(PUBLIC_URL.length)), 400, 'InvalidCode');
    });
  });

  describe('POST /v1/me/email/verification', () => {
    it('202 with where it went (masked), how long the code lives and when to ask again', async () => {
      const user = await registerAndLogin(t.http, { email: `anna.${unique('x')}@example.com` });
      await mail.waitFor((m) => m.to === user.email);
      await t.endCooldown(user.email);

      const res = await t.http.post('/v1/me/email/verification', undefined, { token: user.accessToken });

      expect(res.status).toBe(202);
      expect(res.body).toEqual({ channel: 'email', destination: expect.stringMatching(/^a\*.@example\.com$/), expiresIn: 600, retryAfter: 60 });
      await mail.waitFor((m) => m.to === user.email && mail.mailsTo(user.email).length === 2);
    });

    it('429 ResendTooSoon with Retry-After and the seconds left during the cooldown, and nothing sent', async () => {
      const registering = Date.now(); // the registration mail starts the 60 s cooldown
      const user = await registerAndLogin(t.http);
      await mail.waitFor((m) => m.to === user.email);

      const res = await t.http.post('/v1/me/email/verification', undefined, { token: user.accessToken });
      const elapsed = Math.ceil((Date.now() - registering) / 1000);

      expectProblem(res, 429, 'ResendTooSoon');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(60 - elapsed);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(res.body.detail).toContain(`${retryAfter} s`);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE user_id = $1`, [user.id]);
      expect(queued[0].n).toBe(1);
    });

    it('400 ContactMissing for an account without an e-mail', async () => {
      const phoneOnly = await registerPhoneOnly();
      expectProblem(await t.http.post('/v1/me/email/verification', undefined, { token: phoneOnly.accessToken }), 400, 'ContactMissing');
    });

    it('401 without a token', async () => {
      expectProblem(await t.http.post('/v1/me/email/verification'), 401);
    });
  });

  describe('phone verification by SMS', () => {
    it('sends an SMS code to the E.164 number and confirming it sets phoneVerifiedAt', async () => {
      const user = await registerAndLogin(t.http);

      const res = await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ channel: 'sms', destination: expect.stringMatching(/^\+7\*+\d{2}$/), expiresIn: 600, retryAfter: 30 });

      const message = await sms.waitFor((m) => m.to === user.phone);
      expect(message.text).toMatch(/^Your confirmation code: \d{6}\. Valid for 10 minutes\./);
      const lifetimes = await t.secretLifetimes(user.id);
      expect(lifetimes.filter((secret) => secret.purpose === 'phone-verify')).toEqual([
        { purpose: 'phone-verify', kind: 'code', target: user.phone, seconds: 600 },
      ]);
      const confirmed = await t.http.post('/v1/me/phone/verification/confirm', { code: codeIn(message.text) }, { token: user.accessToken });

      expect(confirmed.status).toBe(200);
      expect(confirmed.body).toMatchObject({ phoneVerified: true, phoneVerifiedAt: expect.stringMatching(ISO_DATE), emailVerified: false });
    });

    it('has a 30 s cooldown per number, reported as seconds left', async () => {
      const user = await registerAndLogin(t.http);
      const sending = Date.now();
      expect((await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken })).status).toBe(202);

      const again = await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken });
      const elapsed = Math.ceil((Date.now() - sending) / 1000);

      expectProblem(again, 429, 'ResendTooSoon');
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThanOrEqual(30 - elapsed);
      expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    });

    it('refuses a wrong code, and the e-mail code cannot confirm the phone', async () => {
      const { user, code: emailCode } = await registeredWithMail();
      const requestSmsCode = async () => {
        await t.endCooldown(user.phone);
        const sentBefore = sms.to(user.phone).length;
        expect((await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken })).status).toBe(202);
        return codeIn((await sms.waitFor((m) => m.to === user.phone && sms.to(user.phone).indexOf(m) >= sentBefore)).text);
      };
      // One in a million SMS codes equals the e-mail code, which would prove nothing: ask again then.
      let smsCode = await requestSmsCode();
      for (let attempt = 0; smsCode === emailCode && attempt < 3; attempt++) smsCode = await requestSmsCode();
      expect(smsCode).not.toBe(emailCode);

      expectProblem(await t.http.post('/v1/me/phone/verification/confirm', { code: emailCode }, { token: user.accessToken }), 400, 'InvalidCode');
      expect((await t.http.post('/v1/me/phone/verification/confirm', { code: smsCode }, { token: user.accessToken })).status).toBe(200);
    });

    it('409 AlreadyVerified once verified, 400 ContactMissing without a phone', async () => {
      const user = await registerAndLogin(t.http);
      await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken });
      const code = codeIn((await sms.waitFor((m) => m.to === user.phone)).text);
      await t.http.post('/v1/me/phone/verification/confirm', { code }, { token: user.accessToken });
      await t.endCooldown(user.phone);

      expectProblem(await t.http.post('/v1/me/phone/verification', undefined, { token: user.accessToken }), 409, 'AlreadyVerified');
      const noPhone = await registerAndLogin(t.http, { phone: undefined });
      expectProblem(await t.http.post('/v1/me/phone/verification', undefined, { token: noPhone.accessToken }), 400, 'ContactMissing');
    });
  });

  it('housekeeping deletes secrets and cooldowns a day past use or expiry, and keeps live ones', async () => {
    const { user } = await registeredWithMail();
    const stale = await registeredWithMail();
    await t.db.query(`UPDATE verification_secrets SET expires_at = now() - interval '25 hours' WHERE user_id = $1`, [stale.user.id]);
    await t.db.query(`UPDATE send_cooldowns SET last_sent_at = now() - interval '25 hours' WHERE target = $1`, [stale.user.email]);

    await t.app.get(VerificationHousekeeping).sweep();

    const count = async (sql: string, param: string) => (await t.db.query(sql, [param]))[0].n;
    expect(await count(`SELECT count(*)::int AS n FROM verification_secrets WHERE user_id = $1`, stale.user.id)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM send_cooldowns WHERE target = $1`, stale.user.email)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM verification_secrets WHERE user_id = $1`, user.id)).toBe(2);
    expect(await count(`SELECT count(*)::int AS n FROM send_cooldowns WHERE target = $1`, user.email)).toBe(1);
  });

  it('stores codes and link tokens only as hashes', async () => {
    const { user, code, link } = await registeredWithMail();
    const token = new URL(link).searchParams.get('token')!;

    const rows: { secret_hash: Buffer }[] = await t.db.query(`SELECT secret_hash FROM verification_secrets WHERE user_id = $1`, [user.id]);

    expect(rows).toHaveLength(2);
    for (const { secret_hash } of rows) {
      const stored = secret_hash.toString('latin1');
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(token);
      expect(secret_hash).toHaveLength(32);
    }
  });
});
