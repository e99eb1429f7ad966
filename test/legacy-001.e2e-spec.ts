import { GOOD_PASSWORD, startApp, TestApp, unique, uniquePhone } from './support/app';
import { HttpResponse } from './support/http';
import { jwtPayload, promoteToAdmin } from './support/users';

const NEW_PASSWORD = 'A brand-new passphrase 2026';
/** ISO 8601 with an explicit numeric offset, as in the document (`…+03:00`). */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$/;

/** 001's errors: `{"status":"error","message":…}` with this status. */
function expectError(res: HttpResponse, status: number): void {
  expect({ status: res.status, body: res.body }).toEqual({ status, body: { status: 'error', message: expect.any(String) } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

interface Registered001 {
  id: string;
  username: string;
  email: string;
  phone: string;
  token: string;
}

describe('legacy 001: user service', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  const login = (email_or_name: string, password: string, remember_me?: unknown) => t.http.post('/auth/login', { email_or_name, password, remember_me });

  async function register(overrides: Record<string, unknown> = {}): Promise<Registered001> {
    const body = {
      user_type: 'ind',
      username: unique('egor'),
      password: GOOD_PASSWORD,
      email: `${unique('citymodz')}@example.com`,
      contact_number: uniquePhone(),
      ...overrides,
    };
    const res = await t.http.post('/auth/register', body);
    expect(res.status).toBe(201);
    const signedIn = await login(body.username as string, body.password as string);
    expect(signedIn.status).toBe(200);
    return {
      id: res.body.data.user_id,
      username: body.username as string,
      email: body.email as string,
      phone: body.contact_number as string,
      token: signedIn.body.data.token,
    };
  }

  describe('POST /auth/register', () => {
    it('201 {status: "success", data: {user_id}} and no e-mail is queued (SPEC §6)', async () => {
      const email = `${unique('citymodz')}@example.com`;
      const res = await t.http.post('/auth/register', {
        user_type: 'ind',
        username: unique('egor'),
        password: GOOD_PASSWORD,
        email,
        contact_number: '+79853553825'.slice(0, 4) + uniquePhone().slice(4),
      });

      expect(res.status).toBe(201);
      expect(res.body).toEqual({ status: 'success', data: { user_id: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE recipient = $1`, [email]);
      expect(queued[0].n).toBe(0);
    });

    it('409 for a username, e-mail or phone that is taken', async () => {
      const egor = await register();
      expectError(await t.http.post('/auth/register', { username: egor.username.toUpperCase(), password: GOOD_PASSWORD }), 409);
      expectError(await t.http.post('/auth/register', { email: egor.email, password: GOOD_PASSWORD }), 409);
      expectError(await t.http.post('/auth/register', { contact_number: egor.phone, password: GOOD_PASSWORD }), 409);
    });

    it('400 for a weak password, an invalid e-mail, no identifier, or malformed JSON', async () => {
      expectError(await t.http.post('/auth/register', { username: unique('egor'), password: 'password' }), 400);
      expectError(await t.http.post('/auth/register', { email: 'nope', password: GOOD_PASSWORD }), 400);
      expectError(await t.http.post('/auth/register', { user_type: 'ind', password: GOOD_PASSWORD }), 400);
      expectError(await t.http.post('/auth/register', undefined, { raw: '{"username":' }), 400);
    });
  });

  describe('POST /auth/login', () => {
    it('by username or e-mail → {status, data: {token, "token-expiry"}}; the token lives REFRESH_TOKEN_TTL', async () => {
      const egor = await register();
      for (const identifier of [egor.username, egor.email.toUpperCase()]) {
        const res = await login(identifier, GOOD_PASSWORD, false);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ status: 'success', data: { token: expect.any(String), 'token-expiry': 86400 } });
        const claims = jwtPayload(res.body.data.token);
        expect(claims.exp - claims.iat).toBe(86400);
        expect(claims.sub).toBe(egor.id);
      }
    });

    it('remember_me (also Python\'s "True") → REMEMBER_ME_TTL', async () => {
      const egor = await register();
      for (const remember of [true, 'True']) {
        const res = await login(egor.username, GOOD_PASSWORD, remember);
        expect(res.body.data['token-expiry']).toBe(2592000);
        const claims = jwtPayload(res.body.data.token);
        expect(claims.exp - claims.iat).toBe(2592000);
      }
    });

    it('401 for a wrong password or an unknown user, with the same message', async () => {
      const egor = await register();
      const wrong = await login(egor.username, 'wrong password');
      const unknown = await login(unique('ghost'), 'wrong password');
      expectError(wrong, 401);
      expectError(unknown, 401);
      expect(unknown.body).toEqual(wrong.body);
    });

    it('400 without email_or_name', async () => {
      expectError(await t.http.post('/auth/login', { password: GOOD_PASSWORD }), 400);
    });

    it('429 with Retry-After once the account is locked', async () => {
      const egor = await register();
      for (let i = 0; i < 10; i++) await login(egor.username, 'wrong password');
      const res = await login(egor.username, GOOD_PASSWORD);
      expectError(res, 429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('GET /{user_id}', () => {
    it('the documented object for the user themself; user_role "Not_Verifyed" until the e-mail is confirmed', async () => {
      const egor = await register();

      const res = await t.http.get(`/${egor.id}`, { token: egor.token });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'success',
        data: {
          id: egor.id,
          email: egor.email,
          user_type: 'ind',
          username: egor.username,
          contact_number: egor.phone,
          user_role: 'Not_Verifyed',
          created: expect.stringMatching(ISO_WITH_OFFSET),
          updated: expect.stringMatching(ISO_WITH_OFFSET),
        },
      });
      await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [egor.id]);
      expect((await t.http.get(`/${egor.id}`, { token: egor.token })).body.data.user_role).toBe('Verified');
    });

    it("403 for another user's id, known or not; an administrator reads anyone, 404 for nobody", async () => {
      const egor = await register();
      const anna = await register();
      const ghost = '00000000-0000-4000-8000-000000000000';
      expectError(await t.http.get(`/${anna.id}`, { token: egor.token }), 403);
      expectError(await t.http.get(`/${ghost}`, { token: egor.token }), 403);

      await promoteToAdmin(t.db, egor.id);
      expect((await t.http.get(`/${anna.id}`, { token: egor.token })).body.data.id).toBe(anna.id);
      expectError(await t.http.get(`/${ghost}`, { token: egor.token }), 404);
    });

    it('401 without a token', async () => {
      const egor = await register();
      expectError(await t.http.get(`/${egor.id}`), 401);
    });

    it("only matches a UUID: another one-segment path is a 404 in this surface's envelope (the document's /{userId})", async () => {
      const egor = await register();
      const res = await t.http.get('/favicon.ico', { token: egor.token });
      expectError(res, 404);
      expect((await t.http.get('/docs-json', { notAnOperation: true })).status).toBe(200);
    });
  });

  describe('PUT /{user_id}', () => {
    it('{status: "success"}; the documented fields change, and a new e-mail is "Not_Verifyed" again', async () => {
      const egor = await register();
      await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [egor.id]);
      expect((await t.http.get(`/${egor.id}`, { token: egor.token })).body.data.user_role).toBe('Verified');
      const changes = { user_type: 'ent', username: unique('renamed'), email: `${unique('moved')}@example.com`, contact_number: uniquePhone() };

      const res = await t.http.put(`/${egor.id}`, changes, { token: egor.token });

      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'success' });
      const read = await t.http.get(`/${egor.id}`, { token: egor.token });
      expect(read.body.data).toMatchObject({ ...changes, user_role: 'Not_Verifyed' });
    });

    it('a new password: the old one stops working, the other sessions end, this one stays', async () => {
      const egor = await register();
      const other = (await login(egor.username, GOOD_PASSWORD)).body.data.token;

      expect((await t.http.put(`/${egor.id}`, { password: NEW_PASSWORD }, { token: egor.token })).status).toBe(200);

      expectError(await login(egor.username, GOOD_PASSWORD), 401);
      expect((await login(egor.username, NEW_PASSWORD)).status).toBe(200);
      expectError(await t.http.get(`/${egor.id}`, { token: other }), 401);
      expect((await t.http.get(`/${egor.id}`, { token: egor.token })).status).toBe(200);
    });

    it('a weak password is refused and nothing else changes', async () => {
      const egor = await register();
      const res = await t.http.put(`/${egor.id}`, { username: unique('renamed'), password: 'password' }, { token: egor.token });
      expectError(res, 400);
      expect((await t.http.get(`/${egor.id}`, { token: egor.token })).body.data.username).toBe(egor.username);
    });

    it('an administrator may change another user (a new password ends all of their sessions); others get 403', async () => {
      const admin = await register();
      const egor = await register();
      await promoteToAdmin(t.db, admin.id);

      expectError(await t.http.put(`/${admin.id}`, { user_type: 'ent' }, { token: egor.token }), 403);
      expect((await t.http.put(`/${egor.id}`, { user_type: 'ent', password: NEW_PASSWORD }, { token: admin.token })).status).toBe(200);
      expectError(await t.http.get(`/${egor.id}`, { token: egor.token }), 401);
      expect((await login(egor.username, NEW_PASSWORD)).status).toBe(200);
    });

    it('409 for an e-mail of another account; 400 for an invalid one', async () => {
      const egor = await register();
      const anna = await register();
      expectError(await t.http.put(`/${egor.id}`, { email: anna.email }, { token: egor.token }), 409);
      expectError(await t.http.put(`/${egor.id}`, { email: 'nope' }, { token: egor.token }), 400);
    });
  });

  it('every operation is in the OpenAPI document under the 001 tag', async () => {
    const { body: doc } = await t.http.get('/docs-json', { notAnOperation: true });
    expect(doc.paths['/auth/register'].post.tags).toEqual(['legacy 001: user service']);
    expect(doc.paths['/auth/login'].post.responses['401'].content['application/json'].example).toMatchObject({ status: 'error' });
    expect(Object.keys(doc.paths['/{userId}']).sort()).toEqual(['get', 'put']);
  });
});
