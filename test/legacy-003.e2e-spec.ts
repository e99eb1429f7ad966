import { setLock } from './support/lockout';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { HttpResponse } from './support/http';
import { linkIn, ReceivedMail } from './support/mail';
import { jwtPayload } from './support/users';

const NEW_PASSWORD = 'A brand-new passphrase 2026';
const PACKAGE_VERSION = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version;
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const CONFIRM_SUBJECT = 'Confirm your e-mail address';
const RESET_SUBJECT = 'Reset your password';

interface Account {
  id: string;
  username: string;
  email: string;
  phone: string;
  password: string;
}

/** Document 003 (`seeds/003`): user_account endpoints under /api/, with real e-mail delivery. */
describe('legacy 003: user account (/api/*)', () => {
  let t: DeliveryTestApp;

  beforeAll(async () => {
    t = await startAppWithDelivery();
  });
  afterAll(() => t.close());

  /** An error in 003's envelope: `{"status":"ERR","msg":…}` (exactly these keys) with this HTTP status. */
  function expectErr(res: HttpResponse, status: number, msg?: string | RegExp): void {
    expect({ status: res.status, body: res.body }).toEqual({
      status,
      body: { status: 'ERR', msg: msg === undefined ? expect.any(String) : typeof msg === 'string' ? msg : expect.stringMatching(msg) },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  }

  function expectOk(res: HttpResponse, msg: string): void {
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { status: 'OK', msg } });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  }

  const registration = (overrides: Record<string, unknown> = {}) => ({
    username: unique('user'),
    full_name: 'Admin A.A.',
    email: `${unique('mail')}@example.com`,
    phone: null,
    contacts: null,
    pwd: GOOD_PASSWORD,
    ...overrides,
  });

  const login = (username: string, pwd: string, remember?: unknown) =>
    t.http.post('/api/login', { username, pwd, ...(remember === undefined ? {} : { remember }) });
  const profile = (token: string, scheme: 'Bearer' | 'Token' = 'Token') => t.http.get('/api/profile_settings', { token, scheme });
  const confirmMail = (email: string) => t.mail.waitFor((m) => m.to === email && m.subject === CONFIRM_SUBJECT);
  /** An e-mailed link, opened through this test server instead of PUBLIC_URL. */
  const pathOf = (link: string) => link.slice(PUBLIC_URL.length);

  /** Registers through 003 and waits for the confirmation mail (so the next mail to the address is a new one). */
  async function register(overrides: Record<string, unknown> = {}): Promise<Account & { confirmLink: string }> {
    const body = registration({ phone: uniquePhone(), ...overrides });
    const res = await t.http.post('/api/registration', body);
    expectOk(res, 'Check your email...');
    const mail = await confirmMail(body.email as string);
    const [{ id }] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [body.email]);
    return {
      id,
      username: body.username as string,
      email: body.email as string,
      phone: body.phone as unknown as string,
      password: body.pwd as string,
      confirmLink: linkIn(mail.text, '/api/confirm_email/'),
    };
  }

  async function tokenOf(who: Account, remember?: boolean): Promise<string> {
    const res = await login(who.username, who.password, remember);
    expect(res.status).toBe(200);
    return res.body.data.token;
  }

  describe('GET / and GET /api/', () => {
    it('answer the service name and the package version in the envelope, without a token', async () => {
      const expected = { status: 'OK', msg: 'identity-service', data: { name: 'identity-service', version: PACKAGE_VERSION } };
      for (const path of ['/', '/api/', '/api']) {
        const res = await t.http.get(path);
        expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 200, body: expected });
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      }
      expect(typeof PACKAGE_VERSION).toBe('string');
    });
  });

  describe('POST /api/registration', () => {
    it('creates the account, answers "Check your email..." and e-mails a confirmation link (no code)', async () => {
      const phone = uniquePhone();
      const body = registration({ phone: phone.replace('+7', '8') });
      const res = await t.http.post('/api/registration', body);

      expectOk(res, 'Check your email...');
      const mail = await confirmMail(body.email);
      const link = linkIn(mail.text, '/api/confirm_email/');
      expect(link.startsWith(`${PUBLIC_URL}/api/confirm_email/`)).toBe(true);
      expect(pathOf(link).slice('/api/confirm_email/'.length)).toMatch(LINK_TOKEN);
      expect(mail.text).toContain('valid for 24 hours');
      expect(mail.text).not.toMatch(/(?<![\d\w-])\d{6}(?![\d\w-])/);
      const [row] = await t.db.query(`SELECT username, full_name, contacts, phone, email_verified_at FROM users WHERE email = $1`, [body.email]);
      expect(row).toEqual({ username: body.username, full_name: 'Admin A.A.', contacts: null, phone, email_verified_at: null });
    });

    it("keeps the username as typed, the full name and contacts, and stores the Accept-Language as the account's language", async () => {
      const username = `Admin${unique('')}`;
      const body = registration({ username, full_name: 'Иванов Иван', contacts: 'telegram: @ivan', email: `${unique('ru')}@example.com` });
      expectOk(await t.http.post('/api/registration', body, { headers: { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.5' } }), 'Check your email...');

      const mail = await t.mail.waitFor((m) => m.to === body.email);
      expect(mail.subject).toBe('Подтвердите адрес электронной почты');
      const [row] = await t.db.query(`SELECT username, full_name, contacts, locale FROM users WHERE email = $1`, [body.email]);
      expect(row).toEqual({ username, full_name: 'Иванов Иван', contacts: 'telegram: @ivan', locale: 'ru' });
    });

    it.each(['root', 'Root', 'support', 'postmaster', 'api'])('refuses the reserved username %p with exactly "username is not allowed."', async (username) => {
      const body = registration({ username });
      expectErr(await t.http.post('/api/registration', body), 400, 'username is not allowed.');
      expect(await t.db.query(`SELECT id FROM users WHERE email = $1`, [body.email])).toEqual([]);
    });

    it.each(['1abc', 'a b', 'x', 'user@name', 'имя!', '_lead', `a${'b'.repeat(64)}`])(
      'refuses the malformed username %p with exactly "username is not allowed."',
      async (username) => {
        expectErr(await t.http.post('/api/registration', registration({ username })), 400, 'username is not allowed.');
      },
    );

    it('409 for a taken username (any case), e-mail or phone, with a clear message', async () => {
      const anna = await register();

      expectErr(await t.http.post('/api/registration', registration({ username: anna.username.toUpperCase() })), 409, 'this username is already taken');
      expectErr(await t.http.post('/api/registration', registration({ email: anna.email.toUpperCase() })), 409, 'this e-mail is already registered');
      expectErr(await t.http.post('/api/registration', registration({ phone: anna.phone })), 409, 'this phone number is already registered');
    });

    it('400 for a weak password, with the policy reason', async () => {
      expectErr(await t.http.post('/api/registration', registration({ pwd: 'short' })), 400, 'password must be at least 8 characters long');
      expectErr(await t.http.post('/api/registration', registration({ pwd: 'password1' })), 400, 'password is too common');
    });

    it('400 with the field messages for missing or invalid fields, a bad phone, and malformed JSON', async () => {
      expectErr(await t.http.post('/api/registration', registration({ email: undefined })), 400, /email must be an email/);
      expectErr(await t.http.post('/api/registration', registration({ username: undefined, pwd: undefined })), 400, /username.*; .*pwd|pwd.*; .*username/);
      expectErr(await t.http.post('/api/registration', registration({ email: 'not-an-email' })), 400, 'email must be an email');
      expectErr(await t.http.post('/api/registration', registration({ phone: '12' })), 400, 'phone must be a valid phone number');
      expectErr(await t.http.post('/api/registration', undefined, { raw: '{"username": "x",' }), 400, 'the request body is not valid JSON');
      expectErr(await t.http.post('/api/registration', undefined), 400);
    });
  });

  describe('GET /api/confirm_email/{token}', () => {
    it('the e-mailed link confirms the address once: is_email_verified becomes true', async () => {
      const anna = await register();
      const token = await tokenOf(anna);
      expect((await profile(token)).body.data.is_email_verified).toBe(false);

      expectOk(await t.http.get(pathOf(anna.confirmLink)), 'Your email has been confirmed.');

      expect((await profile(token)).body.data.is_email_verified).toBe(true);
      expectErr(await t.http.get(pathOf(anna.confirmLink)), 400, 'user not found.');
    });

    it('400 "user not found." for an unknown, malformed or expired token', async () => {
      const anna = await register();
      expectErr(await t.http.get(`/api/confirm_email/${'A'.repeat(43)}`), 400, 'user not found.');
      expectErr(await t.http.get('/api/confirm_email/not-a-token'), 400, 'user not found.');

      await t.expireSecrets(anna.id);
      expectErr(await t.http.get(pathOf(anna.confirmLink)), 400, 'user not found.');
    });
  });

  describe('POST /api/login', () => {
    it('signs in by username and answers exactly {data:{token}, msg:"success", status:"OK"}', async () => {
      const anna = await register();
      const res = await login(anna.username, anna.password, false);

      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { data: { token: expect.any(String) }, msg: 'success', status: 'OK' } });
      expect(jwtPayload(res.body.data.token)).toMatchObject({ sub: anna.id, sid: expect.any(String) });
      expect((await profile(res.body.data.token)).status).toBe(200);
    });

    it('signs in by e-mail (any case) and by phone', async () => {
      const anna = await register();
      expect((await login(anna.email.toUpperCase(), anna.password)).status).toBe(200);
      expect((await login(anna.phone, anna.password)).status).toBe(200);
    });

    it('the token lives as long as the session: REMEMBER_ME_TTL with remember, REFRESH_TOKEN_TTL without', async () => {
      const anna = await register();
      const lifetime = async (remember?: unknown) => {
        const { exp, iat } = jwtPayload((await login(anna.username, anna.password, remember)).body.data.token);
        return exp - iat;
      };

      expect(await lifetime(true)).toBe(2592000);
      expect(await lifetime('true')).toBe(2592000);
      expect(await lifetime(false)).toBe(86400);
      expect(await lifetime()).toBe(86400);
    });

    it('401 for a wrong password or an unknown account, with the same answer', async () => {
      const anna = await register();
      const wrong = await login(anna.username, 'not the password at all');
      const unknown = await login(unique('nobody'), 'not the password at all');

      expectErr(wrong, 401, 'wrong login or password');
      expect(unknown.body).toEqual(wrong.body);
      expect(unknown.status).toBe(wrong.status);
    });

    it('429 with Retry-After while the account is locked, even with the right password', async () => {
      const anna = await register();
      const locking = Date.now();
      await setLock(t.db, anna.id, 12, `now() + interval '10 minutes'`);

      const res = await login(anna.username, anna.password);
      const elapsed = Math.ceil((Date.now() - locking) / 1000);

      expectErr(res, 429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(600 - elapsed);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(600);
    });

    it('locks after 10 wrong passwords in a row', async () => {
      const anna = await register();
      for (let i = 0; i < 10; i++) expectErr(await login(anna.username, 'not the password at all'), 401);

      const res = await login(anna.username, anna.password);
      expectErr(res, 429, 'too many failed sign-ins; try again later');
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('403 for a blocked account', async () => {
      const anna = await register();
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [anna.id]);
      expectErr(await login(anna.username, anna.password), 403, 'this account is blocked');
    });

    it('400 for missing fields, a non-boolean remember, or malformed JSON', async () => {
      expectErr(await t.http.post('/api/login', { username: 'someone' }), 400, /pwd/);
      expectErr(await t.http.post('/api/login', { pwd: 'x' }), 400, /username/);
      expectErr(await t.http.post('/api/login', { username: 'someone', pwd: 'x', remember: 'maybe' }), 400, 'remember must be a boolean value');
      expectErr(await t.http.post('/api/login', undefined, { raw: '{"username":' }), 400, 'the request body is not valid JSON');
    });
  });

  describe('GET /api/profile_settings', () => {
    it('answers exactly the documented keys: e-mail masked, pwd "********", phone E.164', async () => {
      const local = `d${unique('x')}z`;
      const phone = uniquePhone();
      const anna = await register({ email: `${local}@yandex.ru`, full_name: 'Admin A.A.', phone: phone.replace('+7', '8'), contacts: 'tg @admin' });

      const res = await profile(await tokenOf(anna));

      expect({ status: res.status, body: res.body }).toEqual({
        status: 200,
        body: {
          data: {
            contacts: 'tg @admin',
            email: 'd*z@yandex.ru',
            full_name: 'Admin A.A.',
            is_email_verified: false,
            phone,
            pwd: '********',
            username: anna.username,
          },
          msg: 'success',
          status: 'OK',
        },
      });
      expect(res.text).not.toContain(local);
    });

    it('nulls for what was not given; full_name falls back to surname, name and patronymic', async () => {
      const anna = await register({ full_name: null, phone: null, contacts: null });
      const token = await tokenOf(anna);

      expect((await profile(token)).body.data).toMatchObject({ full_name: null, phone: null, contacts: null });
      await t.db.query(`UPDATE users SET surname = 'Petrova', name = 'Anna' WHERE id = $1`, [anna.id]);
      expect((await profile(token)).body.data.full_name).toBe('Petrova Anna');
    });

    it('accepts the token as "Token" or "Bearer"', async () => {
      const token = await tokenOf(await register());
      expect((await profile(token, 'Token')).status).toBe(200);
      expect((await profile(token, 'Bearer')).status).toBe(200);
    });

    it('401 ERR without a token or with a bad one; 403 ERR for a blocked account', async () => {
      expectErr(await t.http.get('/api/profile_settings'), 401, 'an access token is required');
      expectErr(await profile('not.a.token'), 401);

      const anna = await register();
      const token = await tokenOf(anna);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [anna.id]);
      expectErr(await profile(token), 403, 'this account is blocked');
    });
  });

  describe('GET /api/logout', () => {
    it('answers {"status":"OK","msg":"user logout"} and the token fails at once; other sessions stay', async () => {
      const anna = await register();
      const token = await tokenOf(anna);
      const other = await tokenOf(anna);

      expectOk(await t.http.get('/api/logout', { token, scheme: 'Token' }), 'user logout');

      expectErr(await profile(token), 401);
      expectErr(await t.http.get('/api/logout', { token }), 401);
      expect((await profile(other)).status).toBe(200);
    });

    it('401 ERR without a valid token', async () => {
      expectErr(await t.http.get('/api/logout'), 401, 'an access token is required');
      expectErr(await t.http.get('/api/logout', { token: 'garbage' }), 401);
    });
  });

  describe('POST /api/reset_password_request', () => {
    const request = (username: unknown) => t.http.post('/api/reset_password_request', { username });
    const resetMail = (email: string) => t.mail.waitFor((m) => m.to === email && m.subject === RESET_SUBJECT);

    it('e-mails a reset link to the account, typed as username, e-mail or phone', async () => {
      for (const typed of ['username', 'email', 'phone'] as const) {
        const anna = await register();
        expectOk(await request(anna[typed]), 'Check your email...');

        const mail = await resetMail(anna.email);
        const link = linkIn(mail.text, '/api/reset_password/');
        expect(link.startsWith(`${PUBLIC_URL}/api/reset_password/`)).toBe(true);
        expect(pathOf(link).slice('/api/reset_password/'.length)).toMatch(LINK_TOKEN);
        expect(mail.text).toContain('valid for 1 hour');
        expect(mail.text).not.toMatch(/(?<![\d\w-])\d{6}(?![\d\w-])/);
        const lifetimes = await t.secretLifetimes(anna.id);
        expect(lifetimes.filter((secret) => secret.purpose === 'password-reset')).toEqual([
          { purpose: 'password-reset', kind: 'link', target: anna.email, seconds: 3_600 },
        ]);
      }
    });

    it('answers an unknown account exactly like a known one, and only the known one gets a mail', async () => {
      const anna = await register();
      const nobody = unique('nobody');

      const known = await request(anna.username);
      const unknown = await request(nobody);

      expect({ status: unknown.status, body: unknown.body }).toEqual({ status: known.status, body: known.body });
      expect(unknown.headers.get('content-type')).toBe(known.headers.get('content-type'));
      expectOk(known, 'Check your email...');
      await resetMail(anna.email);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient ILIKE $1`, [`%${nobody}%`]);
      expect(queued[0].n).toBe(0);
    });

    it('during the resend cooldown: the same 429 with Retry-After for known and unknown accounts', async () => {
      const anna = await register();
      const nobody = `${unique('nobody')}@example.com`;
      await request(anna.username);
      await request(nobody);

      const known = await request(anna.username);
      const unknown = await request(nobody);

      expectErr(known, 429, /^a message was sent recently; try again in \d+ s$/);
      expect({ status: unknown.status, body: unknown.body }).toEqual({ status: known.status, body: known.body });
      expect(known.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(unknown.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    });

    it('400 ERR without a username', async () => {
      expectErr(await t.http.post('/api/reset_password_request', {}), 400, /username/);
      expectErr(await request(42), 400, /username must be a string/);
    });
  });

  describe('POST /api/reset_password/{token}', () => {
    async function resetLink(who: Account): Promise<string> {
      const earlier = new Set<ReceivedMail>(t.mail.messages);
      expectOk(await t.http.post('/api/reset_password_request', { username: who.username }), 'Check your email...');
      const mail = await t.mail.waitFor((m) => m.to === who.email && m.subject === RESET_SUBJECT && !earlier.has(m));
      return pathOf(linkIn(mail.text, '/api/reset_password/'));
    }

    it('sets the new password and ends every session; the link works once', async () => {
      const anna = await register();
      const oldToken = await tokenOf(anna);
      const link = await resetLink(anna);

      expectOk(await t.http.post(link, { new_pwd: NEW_PASSWORD }), 'Your password has been reset.');

      expectErr(await profile(oldToken), 401);
      expectErr(await login(anna.username, anna.password), 401, 'wrong login or password');
      expect((await login(anna.username, NEW_PASSWORD)).status).toBe(200);
      const again = await t.http.post(link, { new_pwd: 'Yet another passphrase 1' });
      expect({ status: again.status, body: again.body }).toEqual({ status: 400, body: { msg: 'user not found', status: 'ERR' } });
      expect((await login(anna.username, NEW_PASSWORD)).status).toBe(200);
      await t.mail.waitFor((m) => m.to === anna.email && m.subject === 'Your password was reset');
    });

    it('refuses a weak password with the policy reason before using the link, so the link still works', async () => {
      const anna = await register();
      const link = await resetLink(anna);

      expectErr(await t.http.post(link, { new_pwd: 'short' }), 400, 'password must be at least 8 characters long');
      expectErr(await t.http.post(link, { new_pwd: 'password1' }), 400, 'password is too common');

      expectOk(await t.http.post(link, { new_pwd: NEW_PASSWORD }), 'Your password has been reset.');
      expect((await login(anna.username, NEW_PASSWORD)).status).toBe(200);
    });

    it('400 "user not found" for an unknown or expired token', async () => {
      expectErr(await t.http.post(`/api/reset_password/${'A'.repeat(43)}`, { new_pwd: NEW_PASSWORD }), 400, 'user not found');
      expectErr(await t.http.post('/api/reset_password/short', { new_pwd: NEW_PASSWORD }), 400, 'user not found');

      const anna = await register();
      const link = await resetLink(anna);
      await t.expireSecrets(anna.id);
      expectErr(await t.http.post(link, { new_pwd: NEW_PASSWORD }), 400, 'user not found');
      expect((await login(anna.username, anna.password)).status).toBe(200);
    });

    it('400 ERR without new_pwd', async () => {
      const anna = await register();
      const link = await resetLink(anna);
      expectErr(await t.http.post(link, {}), 400, /new_pwd/);
      expectOk(await t.http.post(link, { new_pwd: NEW_PASSWORD }), 'Your password has been reset.');
    });
  });

  describe('the OpenAPI document', () => {
    it('lists every 003 operation under its tag with a legacy003_ operationId', async () => {
      const doc = (await t.http.get('/docs-json', { notAnOperation: true })).body;
      const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
        Object.entries(item)
          .filter(([, op]) => op?.tags?.includes('legacy 003: user account'))
          .map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
      );
      expect(operations.sort()).toEqual(
        [
          'GET / legacy003_root',
          'GET /api legacy003_apiRoot',
          'POST /api/login legacy003_login',
          'POST /api/registration legacy003_registration',
          'POST /api/reset_password_request legacy003_resetPasswordRequest',
          'GET /api/confirm_email/{token} legacy003_confirmEmail',
          'POST /api/reset_password/{token} legacy003_resetPassword',
          'GET /api/profile_settings legacy003_profileSettings',
          'GET /api/logout legacy003_logout',
        ].sort(),
      );
    });
  });
});
