import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { codeIn } from './support/mail';

const NEW_PASSWORD = 'A brand-new passphrase 2026';

/** SPEC: one user store and one token for every surface (000, 001, 004 and /v1). */
describe('legacy surfaces 000, 001 and 004 share one user store and one token', () => {
  let t: DeliveryTestApp;

  beforeAll(async () => {
    t = await startAppWithDelivery();
  });
  afterAll(() => t.close());

  async function registerThrough001(): Promise<{ id: string; username: string; email: string; phone: string; token: string }> {
    const account = { username: unique('egor'), email: `${unique('egor')}@example.com`, contact_number: uniquePhone(), password: GOOD_PASSWORD };
    const registered = await t.http.post('/auth/register', account);
    expect(registered.status).toBe(201);
    const signedIn = await t.http.post('/auth/login', { email_or_name: account.username, password: GOOD_PASSWORD });
    expect(signedIn.status).toBe(200);
    return {
      id: registered.body.data.user_id,
      username: account.username,
      email: account.email,
      phone: account.contact_number,
      token: signedIn.body.data.token,
    };
  }

  it('a user registered through 001 uses 000 and 004 with the same token', async () => {
    const egor = await registerThrough001();

    const profile = await t.http.post('/api/users/profile', { name: 'Egor', phone: egor.phone }, { token: egor.token });
    expect(profile.status).toBe(200);
    expect(profile.body).toMatchObject({ id: egor.id, email: egor.email, phone: egor.phone, name: 'Egor' });
    expect((await t.http.post('/api/users/setPushToken', { token: 'apns:1' }, { token: egor.token })).text).toBe('"DONE!"');

    const changed = await t.http.patch('/me/password', { password: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, { token: egor.token });
    expect(changed.status).toBe(200);
    // The token that changed the password keeps working everywhere.
    expect((await t.http.get(`/${egor.id}`, { token: egor.token })).body.data.id).toBe(egor.id);
    expect((await t.http.get('/v1/me', { token: egor.token })).body).toMatchObject({ id: egor.id, name: 'Egor' });
  });

  it('a password changed through 004 works for 001 login and the old one does not', async () => {
    const egor = await registerThrough001();

    await t.http.patch('/me/password', { password: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, { token: egor.token });

    expect((await t.http.post('/auth/login', { email_or_name: egor.username, password: GOOD_PASSWORD })).status).toBe(401);
    expect((await t.http.post('/auth/login', { email_or_name: egor.email, password: NEW_PASSWORD })).status).toBe(200);
  });

  it('a password recovered by SMS through 004 works for 001, /v1 and ends the 001 token', async () => {
    const egor = await registerThrough001();

    await t.http.patch('/me/password', { phone: egor.phone });
    const code = codeIn((await t.sms.waitFor((m) => m.to === egor.phone)).text);
    expect((await t.http.patch('/me/password', { phone: egor.phone, code, password: NEW_PASSWORD })).status).toBe(200);

    expect((await t.http.post('/api/users/profile', undefined, { token: egor.token })).status).toBe(401);
    expect((await t.http.post('/auth/login', { email_or_name: egor.username, password: NEW_PASSWORD })).status).toBe(200);
    expect((await t.http.post('/v1/auth/login', { login: egor.phone, password: NEW_PASSWORD })).status).toBe(200);
  });

  it('a code from 000 forgotenPassword resets the password for 001 and 004', async () => {
    const egor = await registerThrough001();

    await t.http.post('/api/users/forgotenPassword', { email: egor.email });
    const code = codeIn((await t.mail.waitFor((m) => m.to === egor.email && m.subject === 'Reset your password')).text);
    expect((await t.http.post('/api/users/resetPassword', { email: egor.email, password: NEW_PASSWORD, code })).text).toBe('"DONE!"');

    const signedIn = await t.http.post('/auth/login', { email_or_name: egor.username, password: NEW_PASSWORD });
    expect(signedIn.status).toBe(200);
    const again = await t.http.patch('/me/password', { password: NEW_PASSWORD, newPassword: GOOD_PASSWORD }, { token: signedIn.body.data.token });
    expect(again.status).toBe(200);
  });

  it('logout through /v1 makes the 001 token fail on 000, 001 and 004 at once', async () => {
    const egor = await registerThrough001();
    expect((await t.http.post('/v1/auth/logout', undefined, { token: egor.token })).status).toBe(204);

    expect((await t.http.post('/api/users/profile', undefined, { token: egor.token })).status).toBe(401);
    expect((await t.http.get(`/${egor.id}`, { token: egor.token })).status).toBe(401);
    expect((await t.http.patch('/me/password', { password: GOOD_PASSWORD, newPassword: NEW_PASSWORD }, { token: egor.token })).body.code).toBe(21015);
  });
});
