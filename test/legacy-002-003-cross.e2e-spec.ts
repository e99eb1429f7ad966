import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { linkIn } from './support/mail';
import { jwtPayload } from './support/users';

/**
 * One user store behind every surface (SPEC): an account registered through 003 gets a token pair
 * through 002, reads its profile through 000 and /v1, and 003's logout ends its session everywhere.
 */
describe('cross-surface: 003 registration and logout, 002 tokens, 000 and /v1 profiles', () => {
  let t: DeliveryTestApp;

  beforeAll(async () => {
    t = await startAppWithDelivery();
  });
  afterAll(() => t.close());

  /** Registers through 003 and confirms the address through the e-mailed link (opened on this test server). */
  async function registerAndConfirmThrough003() {
    const account = { username: unique('user'), email: `${unique('mail')}@example.com`, phone: uniquePhone(), password: GOOD_PASSWORD };
    const registered = await t.http.post('/api/registration', {
      username: account.username,
      full_name: 'Anna Petrova',
      email: account.email,
      phone: account.phone,
      contacts: null,
      pwd: account.password,
    });
    expect({ status: registered.status, body: registered.body }).toEqual({ status: 200, body: { status: 'OK', msg: 'Check your email...' } });
    const mail = await t.mail.waitFor((m) => m.to === account.email && m.subject === 'Confirm your e-mail address');
    const link = linkIn(mail.text, '/api/confirm_email/');
    expect(link.startsWith(`${PUBLIC_URL}/api/confirm_email/`)).toBe(true);
    const confirmed = await t.http.get(link.slice(PUBLIC_URL.length));
    expect({ status: confirmed.status, body: confirmed.body }).toEqual({ status: 200, body: { status: 'OK', msg: 'Your email has been confirmed.' } });
    const [{ id }] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [account.email]);
    return { ...account, id: id as string };
  }

  it('003 registration → 002 token pair → the same account through 000 and /v1 (e-mail unmasked there, confirmed)', async () => {
    const anna = await registerAndConfirmThrough003();

    const pair = await t.http.post('/users/auth/token/', { email: anna.email, password: anna.password });
    expect({ status: pair.status, body: pair.body }).toEqual({
      status: 200,
      body: { refresh: expect.any(String), access: expect.any(String), expired_at: expect.any(Number) },
    });
    expect(jwtPayload(pair.body.access).sub).toBe(anna.id);

    const profile000 = await t.http.post('/api/users/profile', {}, { token: pair.body.access });
    expect(profile000.status).toBe(200);
    expect(profile000.body).toMatchObject({ id: anna.id, email: anna.email, phone: anna.phone, hash_rst: null, hash_vrf: null });

    const me = await t.http.get('/v1/me', { token: pair.body.access });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: anna.id, email: anna.email, username: anna.username, phone: anna.phone, emailVerified: true });

    const settings = await t.http.get('/api/profile_settings', { token: pair.body.access });
    expect(settings.body.data).toMatchObject({ email: `${anna.email[0]}*${anna.email.split('@')[0].slice(-1)}@example.com`, is_email_verified: true });
  });

  it('003 logout ends that session at once on 002, 000 and /v1; the 002 session of the same user stays', async () => {
    const anna = await registerAndConfirmThrough003();
    const pair = await t.http.post('/users/auth/token/', { email: anna.email, password: anna.password });
    expect(pair.status).toBe(200);
    const login = await t.http.post('/api/login', { username: anna.username, pwd: anna.password, remember: false });
    expect(login.status).toBe(200);
    const token = login.body.data.token;
    expect((await t.http.post('/api/users/profile', {}, { token })).status).toBe(200);
    expect((await t.http.get('/users/user/', { token })).status).toBe(200);
    expect((await t.http.get('/v1/me', { token, scheme: 'Token' })).status).toBe(200);

    const logout = await t.http.get('/api/logout', { token });
    expect({ status: logout.status, body: logout.body }).toEqual({ status: 200, body: { status: 'OK', msg: 'user logout' } });

    expect((await t.http.post('/api/users/profile', {}, { token })).status).toBe(401);
    const onUsersApi = await t.http.get('/users/user/', { token });
    expect({ status: onUsersApi.status, body: onUsersApi.body }).toEqual({ status: 401, body: { detail: expect.any(String) } });
    const me = await t.http.get('/v1/me', { token });
    expect(me.status).toBe(401);
    expect(me.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await t.http.get('/v1/me', { token: pair.body.access })).status).toBe(200);
  });

  it('an account registered through 003 signs in through /v1/auth/login', async () => {
    const anna = await registerAndConfirmThrough003();

    for (const login of [anna.username, anna.email, anna.phone]) {
      const res = await t.http.post('/v1/auth/login', { login, password: anna.password });
      expect({ login, status: res.status }).toEqual({ login, status: 200 });
      expect(res.body.user).toMatchObject({ id: anna.id, emailVerified: true });
    }
  });

  it('a /v1 access token works on 003 profile_settings and logout', async () => {
    const anna = await registerAndConfirmThrough003();
    const v1 = await t.http.post('/v1/auth/login', { login: anna.email, password: anna.password });
    const token = v1.body.accessToken;

    expect((await t.http.get('/api/profile_settings', { token })).body.data.username).toBe(anna.username);
    expect((await t.http.get('/api/logout', { token })).status).toBe(200);
    expect((await t.http.get('/v1/me', { token })).status).toBe(401);
  });
});
