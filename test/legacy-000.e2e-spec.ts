import { randomUUID } from 'node:crypto';
import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { allKeys, ISO_DATE } from './support/expect';
import { HttpResponse } from './support/http';
import { codeIn, MailServer } from './support/mail';
import { registerAndLogin, SignedInUser } from './support/users';

const NEW_PASSWORD = 'A brand-new passphrase 2026';

/** The documented profile keys (seeds/000), exactly. */
const PROFILE_KEYS = [
  'id',
  'name',
  'surname',
  'patronymic',
  'email',
  'auto_updating',
  'auto_paying',
  'hash_rst',
  'hash_vrf',
  'token',
  'phone',
  'status',
  'client',
  'role',
  'cityId',
  'createdAt',
  'updatedAt',
].sort();

/** 000's errors: NestJS's default exception body. */
function expectNestError(res: HttpResponse, status: number): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { statusCode: status } });
  expect(Object.keys(res.body).sort()).toEqual(['error', 'message', 'statusCode']);
  expect(typeof res.body.error).toBe('string');
  expect(typeof res.body.message === 'string' || Array.isArray(res.body.message)).toBe(true);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

/** A JSON string body such as `"DONE!"`. */
function expectJsonString(res: HttpResponse, value: string): void {
  expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: JSON.stringify(value) });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('legacy 000: profile RPC under /api/users', () => {
  let t: DeliveryTestApp;
  let mail: MailServer;

  beforeAll(async () => {
    t = await startAppWithDelivery();
    mail = t.mail;
  });
  afterAll(() => t.close());

  /** A signed-in user whose welcome mail has arrived, so later mail to them is the one under test. */
  async function user(overrides: Record<string, unknown> = {}): Promise<SignedInUser> {
    const signedIn = await registerAndLogin(t.http, overrides);
    await mail.waitFor((m) => m.to === signedIn.email);
    return signedIn;
  }

  const profile = (who: { accessToken: string }, body?: unknown) => t.http.post('/api/users/profile', body, { token: who.accessToken });
  const v1Login = (login: string, password: string) => t.http.post('/v1/auth/login', { login, password });

  describe('POST /api/users/profile', () => {
    it('with an empty body returns the documented profile object, key by key', async () => {
      const anna = await user();
      await t.db.query(`UPDATE users SET name = 'Anna', surname = 'Petrova', patronymic = 'Ivanovna', push_token = 'myNewToken' WHERE id = $1`, [anna.id]);

      const res = await profile(anna);

      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(PROFILE_KEYS);
      expect(res.body).toEqual({
        id: anna.id,
        name: 'Anna',
        surname: 'Petrova',
        patronymic: 'Ivanovna',
        email: anna.email,
        auto_updating: false,
        auto_paying: false,
        hash_rst: null,
        hash_vrf: null,
        token: 'myNewToken',
        phone: anna.phone,
        status: 'active',
        client: 'local',
        role: 'user',
        cityId: null,
        createdAt: expect.stringMatching(ISO_DATE),
        updatedAt: expect.stringMatching(ISO_DATE),
      });
    });

    it('with `{}` reads too, and accepts the `Token` scheme', async () => {
      const anna = await user();
      const res = await t.http.post('/api/users/profile', {}, { token: anna.accessToken, scheme: 'Token' });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(anna.id);
    });

    it('changes every documented field and returns the updated profile', async () => {
      const anna = await user();
      const cityId = randomUUID();
      const email = `${unique('new')}@example.com`;
      const digits = uniquePhone().slice(2); // 10 digits after +7

      const res = await profile(anna, {
        name: 'admin',
        surname: 'admin',
        patronymic: 'admin',
        email: email.toUpperCase(),
        auto_updating: true,
        auto_paying: true,
        phone: Number(`8${digits}`), // the document sends it as a number, in the 8XXXXXXXXXX form
        cityId,
      });

      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(PROFILE_KEYS);
      expect(res.body).toMatchObject({
        id: anna.id,
        name: 'admin',
        surname: 'admin',
        patronymic: 'admin',
        email,
        auto_updating: true,
        auto_paying: true,
        phone: `+7${digits}`,
        cityId,
        hash_rst: null,
        hash_vrf: null,
      });
      expect(new Date(res.body.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(res.body.createdAt).getTime());
      // Stored for every surface: /v1 reads the same values.
      const me = await t.http.get('/v1/me', { token: anna.accessToken });
      expect(me.body).toMatchObject({ email, phone: `+7${digits}`, autoUpdating: true, autoPaying: true, cityId, name: 'admin' });
    });

    it('changing the e-mail clears its verification', async () => {
      const anna = await user();
      await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [anna.id]);
      await profile(anna, { email: `${unique('moved')}@example.com` });
      const me = await t.http.get('/v1/me', { token: anna.accessToken });
      expect(me.body.emailVerified).toBe(false);
    });

    it('never shows a secret: no hash anywhere, hash_rst/hash_vrf null even with codes pending', async () => {
      const anna = await user();
      await t.http.post('/api/users/sendCode', undefined, { token: anna.accessToken });
      const res = await profile(anna);
      expect(res.body.hash_rst).toBeNull();
      expect(res.body.hash_vrf).toBeNull();
      expect(allKeys(res.body).filter((key) => /password|secret|refresh/i.test(key))).toEqual([]);
    });

    it('400 for an invalid field, in the NestJS envelope with a list of messages', async () => {
      const anna = await user();
      const res = await profile(anna, { email: 'not-an-e-mail', auto_paying: 'yes' });
      expectNestError(res, 400);
      expect(res.body.error).toBe('Bad Request');
      expect(res.body.message).toEqual(expect.arrayContaining(['email must be an email', 'auto_paying must be a boolean value']));
    });

    it('400 for a phone that is not a phone number, and nothing changes', async () => {
      const anna = await user();
      const res = await profile(anna, { phone: 12, name: 'Changed' });
      expectNestError(res, 400);
      expect((await profile(anna)).body.name).toBeNull();
    });

    it('409 for an e-mail that belongs to another account', async () => {
      const anna = await user();
      const boris = await user();
      const res = await profile(anna, { email: boris.email });
      expectNestError(res, 409);
    });

    it('400 for a body that is not JSON', async () => {
      const anna = await user();
      const res = await t.http.post('/api/users/profile', undefined, { token: anna.accessToken, raw: '{"name": ' });
      expectNestError(res, 400);
    });

    it('401 without a token, and with a token that is not valid', async () => {
      expectNestError(await t.http.post('/api/users/profile'), 401);
      expectNestError(await t.http.post('/api/users/profile', {}, { token: 'not.a.jwt' }), 401);
    });
  });

  describe('POST /api/users/sendCode and resetPassword with a bearer token', () => {
    it('e-mails a code; the code and a new password change it, ending the other sessions but not this one', async () => {
      const anna = await user();
      const otherDevice = await v1Login(anna.email, anna.password);

      const sent = await t.http.post('/api/users/sendCode', undefined, { token: anna.accessToken });
      expectJsonString(sent, 'code send on your email');
      const message = await mail.waitFor((m) => m.to === anna.email && m.subject === 'Password change code');
      const code = codeIn(message.text);
      expect(message.text).toContain('valid for 10 minutes');
      const lifetimes = await t.secretLifetimes(anna.id);
      expect(lifetimes.filter((secret) => secret.purpose === 'password-change')).toEqual([
        { purpose: 'password-change', kind: 'code', target: anna.email, seconds: 600 },
      ]);

      const res = await t.http.post('/api/users/resetPassword', { password: NEW_PASSWORD, code }, { token: anna.accessToken });

      expectJsonString(res, 'DONE!');
      expect((await profile(anna)).status).toBe(200);
      expect((await t.http.get('/v1/me', { token: otherDevice.body.accessToken })).status).toBe(401);
      expect((await v1Login(anna.email, anna.password)).status).toBe(401);
      expect((await v1Login(anna.email, NEW_PASSWORD)).status).toBe(200);
      await mail.waitFor((m) => m.to === anna.email && m.subject === 'Your password was changed');
    });

    it('a second code within the cooldown is 429 with Retry-After', async () => {
      const anna = await user();
      await t.http.post('/api/users/sendCode', undefined, { token: anna.accessToken });
      const res = await t.http.post('/api/users/sendCode', undefined, { token: anna.accessToken });
      expectNestError(res, 429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('a wrong code is 400 and the password stays', async () => {
      const anna = await user();
      await t.http.post('/api/users/sendCode', undefined, { token: anna.accessToken });
      const message = await mail.waitFor((m) => m.to === anna.email && m.subject === 'Password change code');
      const wrong = codeIn(message.text) === '000000' ? '111111' : '000000';

      const res = await t.http.post('/api/users/resetPassword', { password: NEW_PASSWORD, code: wrong }, { token: anna.accessToken });

      expectNestError(res, 400);
      expect((await v1Login(anna.email, anna.password)).status).toBe(200);
    });

    it('a weak password is refused before the code is used, so the code still works', async () => {
      const anna = await user();
      await t.http.post('/api/users/sendCode', undefined, { token: anna.accessToken });
      const code = codeIn((await mail.waitFor((m) => m.to === anna.email && m.subject === 'Password change code')).text);

      expectNestError(await t.http.post('/api/users/resetPassword', { password: 'short', code }, { token: anna.accessToken }), 400);
      expectJsonString(await t.http.post('/api/users/resetPassword', { password: NEW_PASSWORD, code }, { token: anna.accessToken }), 'DONE!');
    });

    it('sendCode without a token is 401; an account without an e-mail gets 400', async () => {
      expectNestError(await t.http.post('/api/users/sendCode'), 401);
      const username = unique('nomail');
      expect((await t.http.post('/v1/auth/register', { username, password: GOOD_PASSWORD })).status).toBe(201);
      const { body } = await v1Login(username, GOOD_PASSWORD);
      expectNestError(await t.http.post('/api/users/sendCode', undefined, { token: body.accessToken }), 400);
    });
  });

  describe('POST /api/users/forgotenPassword and resetPassword without a token', () => {
    it('"DONE!" and an e-mailed code; e-mail + code + password reset it and end every session', async () => {
      const anna = await user();

      expectJsonString(await t.http.post('/api/users/forgotenPassword', { email: anna.email }), 'DONE!');
      const code = codeIn((await mail.waitFor((m) => m.to === anna.email && m.subject === 'Reset your password')).text);
      const res = await t.http.post('/api/users/resetPassword', { email: anna.email, password: NEW_PASSWORD, code });

      expectJsonString(res, 'DONE!');
      expect((await profile(anna)).status).toBe(401);
      expect((await v1Login(anna.email, NEW_PASSWORD)).status).toBe(200);
    });

    it('answers "DONE!" for an unknown address too, and sends nothing', async () => {
      const nobody = `${unique('nobody')}@example.com`;
      expectJsonString(await t.http.post('/api/users/forgotenPassword', { email: nobody }), 'DONE!');
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = $1`, [nobody]);
      expect(queued[0].n).toBe(0);
    });

    it('answers "DONE!" again within the cooldown, without sending a second code', async () => {
      const anna = await user();
      expectJsonString(await t.http.post('/api/users/forgotenPassword', { email: anna.email }), 'DONE!');
      expectJsonString(await t.http.post('/api/users/forgotenPassword', { email: anna.email }), 'DONE!');
      await mail.waitFor((m) => m.to === anna.email && m.subject === 'Reset your password');
      const secrets = await t.db.query(`SELECT count(*)::int AS n FROM verification_secrets WHERE user_id = $1 AND purpose = 'password-reset'`, [anna.id]);
      expect(secrets[0].n).toBe(1);
    });

    it('400 for a missing or invalid e-mail', async () => {
      expectNestError(await t.http.post('/api/users/forgotenPassword', {}), 400);
      expectNestError(await t.http.post('/api/users/forgotenPassword', { email: 'nope' }), 400);
    });

    it('resetPassword without a token needs the e-mail (400), and a wrong code for an unknown address is 400', async () => {
      expectNestError(await t.http.post('/api/users/resetPassword', { password: NEW_PASSWORD, code: '123456' }), 400);
      expectNestError(await t.http.post('/api/users/resetPassword', { email: `${unique('x')}@example.com`, password: NEW_PASSWORD, code: '123456' }), 400);
    });
  });

  describe('POST /api/users/setPushToken', () => {
    it('"DONE!", and the profile shows it as `token`', async () => {
      const anna = await user();
      expectJsonString(await t.http.post('/api/users/setPushToken', { token: 'fcm:device-1' }, { token: anna.accessToken }), 'DONE!');
      expect((await profile(anna)).body.token).toBe('fcm:device-1');
    });

    it('400 without a token value, 401 without a bearer token', async () => {
      const anna = await user();
      expectNestError(await t.http.post('/api/users/setPushToken', {}, { token: anna.accessToken }), 400);
      expectNestError(await t.http.post('/api/users/setPushToken', { token: 'x' }), 401);
    });
  });

  it('every operation is in the OpenAPI document under the 000 tag, with its error responses', async () => {
    const { body: doc } = await t.http.get('/docs-json', { notAnOperation: true });
    for (const name of ['profile', 'sendCode', 'forgotenPassword', 'resetPassword', 'setPushToken']) {
      const operation = doc.paths[`/api/users/${name}`].post;
      expect(operation.tags).toEqual(['legacy 000: profile RPC']);
      expect(operation.responses['200']).toBeDefined();
      expect(operation.responses['400'].content['application/json'].example).toMatchObject({ statusCode: 400 });
    }
  });
});
