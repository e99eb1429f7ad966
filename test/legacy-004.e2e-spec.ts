import { uniquePhone } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { HttpResponse } from './support/http';
import { codeIn } from './support/mail';
import { quickUser, registerAndLogin, SignedInUser } from './support/users';

const NEW_PASSWORD = 'A brand-new passphrase 2026';

/** 004's errors: `{"code": 21xxx, "message": …}` with this status. */
function expectCode(res: HttpResponse, status: number, code: number): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { code, message: expect.any(String) } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('legacy 004: PATCH /me/password', () => {
  let t: DeliveryTestApp;

  beforeAll(async () => {
    t = await startAppWithDelivery();
  });
  afterAll(() => t.close());

  const patch = (body: unknown, token?: string) => t.http.patch('/me/password', body, { token });
  const v1Login = (login: string, password: string) => t.http.post('/v1/auth/login', { login, password });

  /** Step 1, then the code from the SMS the gateway received. */
  async function smsCode(phone: string): Promise<string> {
    const res = await patch({ phone });
    expect(res.status).toBe(200);
    const sms = await t.sms.waitFor((m) => m.to === phone);
    return codeIn(sms.text);
  }

  describe('with a token: change', () => {
    it('{password, newPassword} → 200 with the JSON body `null`; the old password stops working, other sessions end', async () => {
      const anna = await registerAndLogin(t.http);
      const otherDevice = await v1Login(anna.email, anna.password);

      const res = await patch({ password: anna.password, newPassword: NEW_PASSWORD }, anna.accessToken);

      expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: 'null' });
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toBeNull();
      expect((await v1Login(anna.email, anna.password)).status).toBe(401);
      expect((await v1Login(anna.email, NEW_PASSWORD)).status).toBe(200);
      expect((await t.http.get('/v1/me', { token: otherDevice.body.accessToken })).status).toBe(401);
      expect((await t.http.get('/v1/me', { token: anna.accessToken })).status).toBe(200);
    });

    it('accepts the `Token` scheme', async () => {
      const anna = await registerAndLogin(t.http);
      const res = await t.http.patch('/me/password', { password: anna.password, newPassword: NEW_PASSWORD }, { token: anna.accessToken, scheme: 'Token' });
      expect(res.status).toBe(200);
    });

    it('21007 when the current or the new password is missing', async () => {
      const anna = await registerAndLogin(t.http);
      expectCode(await patch({ newPassword: NEW_PASSWORD }, anna.accessToken), 400, 21007);
      expectCode(await patch({ password: anna.password }, anna.accessToken), 400, 21007);
      expectCode(await patch({ password: 42, newPassword: NEW_PASSWORD }, anna.accessToken), 400, 21007);
    });

    it('21014 for a wrong current password (403) and for a new password that fails the policy (400)', async () => {
      const anna = await registerAndLogin(t.http);
      expectCode(await patch({ password: 'not my password', newPassword: NEW_PASSWORD }, anna.accessToken), 403, 21014);
      expectCode(await patch({ password: anna.password, newPassword: 'abc12' }, anna.accessToken), 400, 21014);
      expect((await v1Login(anna.email, anna.password)).status).toBe(200);
    });

    it('21015 for a token that is invalid or revoked', async () => {
      const anna = await registerAndLogin(t.http);
      expectCode(await patch({ password: anna.password, newPassword: NEW_PASSWORD }, 'not.a.token'), 401, 21015);
      await t.http.post('/v1/auth/logout', undefined, { token: anna.accessToken });
      expectCode(await patch({ password: anna.password, newPassword: NEW_PASSWORD }, anna.accessToken), 401, 21015);
    });

    it('21010 for a blocked user', async () => {
      const anna = await registerAndLogin(t.http);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [anna.id]);
      expectCode(await patch({ password: anna.password, newPassword: NEW_PASSWORD }, anna.accessToken), 403, 21010);
    });
  });

  describe('without a token: two-step SMS recovery', () => {
    let anna: SignedInUser;
    beforeEach(async () => {
      anna = await registerAndLogin(t.http);
    });

    it('step 1 {phone} sends an SMS code → {"timeout": 30}', async () => {
      const res = await patch({ phone: anna.phone });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ timeout: 30 });
      const sms = await t.sms.waitFor((m) => m.to === anna.phone);
      expect(codeIn(sms.text)).toMatch(/^\d{6}$/);
    });

    it('the phone may be a JSON number, as documented (int), in the 8XXXXXXXXXX form', async () => {
      const res = await patch({ phone: Number(`8${anna.phone.slice(2)}`) });
      expect(res.body).toEqual({ timeout: 30 });
      await t.sms.waitFor((m) => m.to === anna.phone);
    });

    it('step 2 {phone, code, password} sets the password, ends every session, detaches the unverified e-mail → {"timeout": n}', async () => {
      const code = await smsCode(anna.phone);

      const res = await patch({ phone: anna.phone, code, password: NEW_PASSWORD });

      expect(res.status).toBe(200);
      expect(Object.keys(res.body)).toEqual(['timeout']);
      expect(Number.isInteger(res.body.timeout)).toBe(true);
      expect(res.body.timeout).toBeGreaterThanOrEqual(0);
      expect(res.body.timeout).toBeLessThanOrEqual(30);
      expect((await t.http.get('/v1/me', { token: anna.accessToken })).status).toBe(401);
      expect((await v1Login(anna.phone, anna.password)).status).toBe(401);
      expect((await v1Login(anna.phone, NEW_PASSWORD)).status).toBe(200);
      // SPEC §9 rule 2: the SMS proved the phone; the never-verified e-mail is no longer the account's.
      const [row] = await t.db.query('SELECT email, phone_verified_at FROM users WHERE id = $1', [anna.id]);
      expect(row).toMatchObject({ email: null, phone_verified_at: expect.any(Date) });
      expect((await v1Login(anna.email, NEW_PASSWORD)).status).toBe(401);
    });

    it('21011 with the seconds left (body and Retry-After) when a code is asked for again within 30 s', async () => {
      await smsCode(anna.phone);
      const res = await patch({ phone: anna.phone });
      expectCode(res, 429, 21011);
      expect(res.body.timeout).toBeGreaterThan(0);
      expect(res.body.timeout).toBeLessThanOrEqual(30);
      expect(res.headers.get('retry-after')).toBe(String(res.body.timeout));
    });

    it('an unknown phone is answered exactly like a known one, and gets no SMS', async () => {
      const nobody = uniquePhone();
      // The unknown phone first: whatever it set off is done by the time the known phone's SMS is out.
      const unknown = await patch({ phone: nobody });
      const known = await patch({ phone: anna.phone });
      expect({ status: unknown.status, body: unknown.body }).toEqual({ status: known.status, body: known.body });
      await t.sms.waitFor((m) => m.to === anna.phone);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = $1`, [nobody]);
      expect(queued[0].n).toBe(0);
      expect(t.sms.to(nobody)).toEqual([]);
    });

    it('a blocked user asking for a code is answered like an unknown phone, and gets no SMS', async () => {
      const nobody = uniquePhone();
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [anna.id]);

      const blocked = await patch({ phone: anna.phone });
      const unknown = await patch({ phone: nobody });

      expect({ status: blocked.status, body: blocked.body }).toEqual({ status: unknown.status, body: unknown.body });
      // Whatever those two set off is done by the time a later code to an active user is out.
      const other = await quickUser(t.app);
      await patch({ phone: other.phone });
      await t.sms.waitFor((m) => m.to === other.phone);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = ANY($1)`, [[anna.phone, nobody]]);
      expect(queued[0].n).toBe(0);
    });

    it('21010 for a user blocked after the code was sent: the code is right, the password stays', async () => {
      const code = await smsCode(anna.phone);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [anna.id]);
      const wrong = code === '000000' ? '111111' : '000000';

      // A wrong code says nothing about the account: the same 21015 as for anyone.
      expectCode(await patch({ phone: anna.phone, code: wrong, password: NEW_PASSWORD }), 400, 21015);
      expectCode(await patch({ phone: anna.phone, code, password: NEW_PASSWORD }), 403, 21010);

      await t.db.query(`UPDATE users SET status = 'active' WHERE id = $1`, [anna.id]);
      expect((await v1Login(anna.email, NEW_PASSWORD)).status).toBe(401);
      expect((await v1Login(anna.email, anna.password)).status).toBe(200);
    });

    it('21009 without a phone, 21013 for a phone that is not one', async () => {
      expectCode(await patch({}), 400, 21009);
      expectCode(await patch({ code: '123456', password: NEW_PASSWORD }), 400, 21009);
      expectCode(await patch({ phone: '12' }), 400, 21013);
      expectCode(await patch({ phone: true }), 400, 21013);
    });

    it('21008 for {phone, password} without a code; 21007 for {phone, code} without a password', async () => {
      expectCode(await patch({ phone: anna.phone, password: NEW_PASSWORD }), 400, 21008);
      expectCode(await patch({ phone: anna.phone, code: '123456' }), 400, 21007);
    });

    it('21015 for a wrong code; 21014 for a weak password, which keeps the code usable', async () => {
      const code = await smsCode(anna.phone);
      const wrong = code === '000000' ? '111111' : '000000';
      expectCode(await patch({ phone: anna.phone, code: wrong, password: NEW_PASSWORD }), 400, 21015);
      expectCode(await patch({ phone: anna.phone, code, password: 'abc' }), 400, 21014);
      expect((await patch({ phone: anna.phone, code, password: NEW_PASSWORD })).status).toBe(200);
    });

    it("21003 for a malformed JSON body, in this envelope (not the framework's)", async () => {
      const res = await t.http.patch('/me/password', undefined, { raw: '{"phone": 7999' });
      expectCode(res, 400, 21003);
      expect(Object.keys(res.body).sort()).toEqual(['code', 'message']);
    });
  });

  it('21002 (413) for a body too large to read', async () => {
    expectCode(await t.http.patch('/me/password', { phone: 'x'.repeat(100_000) }), 413, 21002);
  });

  it('is in the OpenAPI document under the 004 tag with every error status', async () => {
    const { body: doc } = await t.http.get('/docs-json', { notAnOperation: true });
    const operation = doc.paths['/me/password'].patch;
    expect(operation.tags).toEqual(['legacy 004: password']);
    expect(Object.keys(operation.responses).sort()).toEqual(['200', '400', '401', '403', '413', '429', '500', '503']);
    expect(operation.responses['429'].content['application/json'].example).toMatchObject({ code: 21011 });
  });
});
