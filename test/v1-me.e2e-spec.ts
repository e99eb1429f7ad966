import { randomUUID } from 'node:crypto';
import { GOOD_PASSWORD, startApp, TestApp, unique, uniquePhone } from './support/app';
import { registerAndLogin } from './support/users';
import { ISO_DATE, allKeys, expectProblem } from './support/expect';

/** Russian national format of an E.164 +7 number: "8 (9XX) XXX-XX-XX". */
function nationalFormat(e164: string): string {
  const d = e164.slice(2);
  return `8 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8, 10)}`;
}

describe('/v1/me', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  describe('GET /v1/me', () => {
    it('returns every field of UserDto with the right type', async () => {
      const user = await registerAndLogin(t.http, { name: 'Anna', surname: 'Petrova', patronymic: 'Ivanovna' });
      const res = await t.http.get('/v1/me', { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const me = res.body;
      expect(me.id).toBe(user.id);
      expect(me.username).toBe(user.username);
      expect(me.email).toBe(user.email);
      expect(me.phone).toBe(user.phone);
      expect(me.phone).toMatch(/^\+7\d{10}$/);
      expect(me.emailVerified).toBe(false);
      expect(me.phoneVerified).toBe(false);
      expect(me.name).toBe('Anna');
      expect(me.surname).toBe('Petrova');
      expect(me.patronymic).toBe('Ivanovna');
      expect(me.fullName).toBe('Petrova Anna Ivanovna');
      expect(me.address).toBeNull();
      expect(me.contacts).toBeNull();
      expect(me.cityId).toBeNull();
      expect(me.userType).toBe('ind');
      expect(me.role).toBe('user');
      expect(me.status).toBe('active');
      expect(me.authClient).toBe('local');
      expect(me.autoUpdating).toBe(false);
      expect(me.autoPaying).toBe(false);
      expect(me.locale).toBeNull();
      expect(me.emailVerifiedAt).toBeNull();
      expect(me.phoneVerifiedAt).toBeNull();
      expect(me.createdAt).toMatch(ISO_DATE);
      expect(me.updatedAt).toMatch(ISO_DATE);
      expect(Object.keys(me).sort()).toEqual(
        [
          'id',
          'username',
          'email',
          'emailVerified',
          'phone',
          'phoneVerified',
          'name',
          'surname',
          'patronymic',
          'fullName',
          'address',
          'contacts',
          'cityId',
          'userType',
          'role',
          'status',
          'authClient',
          'autoUpdating',
          'autoPaying',
          'locale',
          'emailVerifiedAt',
          'phoneVerifiedAt',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
    });

    it('never exposes a password hash', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.get('/v1/me', { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(allKeys(res.body).filter((key) => /password|hash|pwd/i.test(key))).toEqual([]);
      expect(res.text).not.toContain('$argon2');
      expect(res.text).not.toContain(user.password);
    });

    it('accepts the token with the "Token" scheme too', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.get('/v1/me', { token: user.accessToken, scheme: 'Token' });

      expect(res.status).toBe(200);
      expect(res.body.id).toBe(user.id);
    });

    it('answers 401 problem+json without a token', async () => {
      const res = await t.http.get('/v1/me');

      expectProblem(res, 401, 'Unauthenticated');
      expect(res.body.instance).toBe('/v1/me');
    });

    it('answers 401 problem+json with a garbage token', async () => {
      const res = await t.http.get('/v1/me', { token: 'not-a-jwt' });

      expectProblem(res, 401, 'InvalidToken');
    });

    it('answers 401 problem+json with a tampered token', async () => {
      const user = await registerAndLogin(t.http);
      const [header, payload, signature] = user.accessToken.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...claims, role: 'administrator' })).toString('base64url');
      const res = await t.http.get('/v1/me', { token: `${header}.${forged}.${signature}` });

      expectProblem(res, 401, 'InvalidToken');
    });
  });

  describe('PATCH /v1/me', () => {
    it('changes name, surname, fullName, address, cityId and autoPaying', async () => {
      const user = await registerAndLogin(t.http);
      const cityId = randomUUID();
      const changes = { name: 'Boris', surname: 'Sidorov', fullName: 'Dr. B. Sidorov', address: '1 Main St', cityId, autoPaying: true };
      const res = await t.http.patch('/v1/me', changes, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ...changes, id: user.id, email: user.email, autoUpdating: false });
      const again = await t.http.get('/v1/me', { token: user.accessToken });
      expect(again.body).toMatchObject(changes);
    });

    it('derives fullName from surname, name and patronymic when it is not set', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { surname: 'Ivanov', name: 'Ivan', patronymic: 'Petrovich' }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.fullName).toBe('Ivanov Ivan Petrovich');
    });

    it('falls back to the derived fullName when fullName is cleared with null', async () => {
      const user = await registerAndLogin(t.http, { surname: 'Orlova', name: 'Olga' });
      await t.http.patch('/v1/me', { fullName: 'Custom Name' }, { token: user.accessToken });
      const res = await t.http.patch('/v1/me', { fullName: null }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.fullName).toBe('Orlova Olga');
    });

    it('does not set a new e-mail (SPEC §9 rule 4: two steps through POST /v1/me/email/change): 400, nothing changes', async () => {
      const user = await registerAndLogin(t.http);
      await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [user.id]);

      const res = await t.http.patch('/v1/me', { email: `${unique('new')}@example.com`, name: 'Vera' }, { token: user.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
      expect(res.body.detail).toContain('/v1/me/email/change');
      const me = await t.http.get('/v1/me', { token: user.accessToken });
      expect(me.body).toMatchObject({ email: user.email, emailVerified: true, name: null });
      expect(me.body.emailVerifiedAt).toMatch(ISO_DATE);
    });

    it('changing the phone clears its verification', async () => {
      const user = await registerAndLogin(t.http);
      await t.db.query(`UPDATE users SET phone_verified_at = now() WHERE id = $1`, [user.id]);
      const phone = uniquePhone();
      const res = await t.http.patch('/v1/me', { phone }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.phone).toBe(phone);
      expect(res.body.phoneVerified).toBe(false);
      expect(res.body.phoneVerifiedAt).toBeNull();
    });

    it('sending the same e-mail in another case keeps its verification', async () => {
      const user = await registerAndLogin(t.http);
      await t.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [user.id]);
      const res = await t.http.patch('/v1/me', { email: user.email.toUpperCase() }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.email).toBe(user.email);
      expect(res.body.emailVerified).toBe(true);
    });

    it('answers an e-mail of another user exactly like a free one (no "is it taken?" probe)', async () => {
      const other = await registerAndLogin(t.http);
      const user = await registerAndLogin(t.http);
      const taken = await t.http.patch('/v1/me', { email: other.email.toUpperCase() }, { token: user.accessToken });
      const free = await t.http.patch('/v1/me', { email: `${unique('free')}@example.com` }, { token: user.accessToken });

      expectProblem(taken, 400, 'ValidationFailed');
      expect({ ...taken.body, instance: undefined }).toEqual({ ...free.body, instance: undefined });
      const me = await t.http.get('/v1/me', { token: user.accessToken });
      expect(me.body.email).toBe(user.email);
    });

    it('refuses a username of another user, whatever its case: 409 UsernameTaken', async () => {
      const other = await registerAndLogin(t.http);
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { username: other.username.toUpperCase() }, { token: user.accessToken });

      expectProblem(res, 409, 'UsernameTaken');
    });

    it('refuses the phone of another user written in another format: 409 PhoneTaken', async () => {
      const other = await registerAndLogin(t.http);
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { phone: nationalFormat(other.phone) }, { token: user.accessToken });

      expectProblem(res, 409, 'PhoneTaken');
    });

    it('stores a phone typed in national format as E.164', async () => {
      const user = await registerAndLogin(t.http);
      const phone = uniquePhone();
      const res = await t.http.patch('/v1/me', { phone: nationalFormat(phone) }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.phone).toBe(phone);
    });

    it('rejects an invalid e-mail: 400 with a field error naming email', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { email: 'not-an-email' }, { token: user.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
      expect(Array.isArray(res.body.errors)).toBe(true);
      expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'email', message: expect.any(String) })]));
    });

    it('rejects an invalid phone: 400 InvalidPhone', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { phone: '12345' }, { token: user.accessToken });

      expectProblem(res, 400, 'InvalidPhone');
      const me = await t.http.get('/v1/me', { token: user.accessToken });
      expect(me.body.phone).toBe(user.phone);
    });

    it('refuses to remove every identifier: 400 IdentifierRequired', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { email: null, username: null, phone: null }, { token: user.accessToken });

      expectProblem(res, 400, 'IdentifierRequired');
      const me = await t.http.get('/v1/me', { token: user.accessToken });
      expect(me.body).toMatchObject({ email: user.email, username: user.username, phone: user.phone });
    });

    it('lets two identifiers go as long as one remains', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch('/v1/me', { email: null, phone: null }, { token: user.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ email: null, phone: null, username: user.username });
    });

    it('ignores unknown and privileged fields (whitelist)', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch(
        '/v1/me',
        { name: 'Vera', role: 'administrator', status: 'blocked', passwordHash: 'x', emailVerified: true, id: randomUUID(), favouriteColour: 'blue' },
        { token: user.accessToken },
      );

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, name: 'Vera', role: 'user', status: 'active', emailVerified: false });
      expect(res.body).not.toHaveProperty('favouriteColour');
      const [row] = await t.db.query(
        `SELECT u.role, u.status, c.secret FROM users u JOIN credentials c ON c.user_id = u.id AND c.type = 'password' WHERE u.id = $1`,
        [user.id],
      );
      expect(row.role).toBe('user');
      expect(row.status).toBe('active');
      expect(row.secret).toMatch(/^\$argon2id\$/);
    });
  });

  describe('PUT /v1/me/password', () => {
    it('refuses a wrong current password: 403 WrongPassword', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.put(
        '/v1/me/password',
        { currentPassword: 'not my password 123', newPassword: 'A brand new passphrase 7' },
        { token: user.accessToken },
      );

      expectProblem(res, 403, 'WrongPassword');
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(login.status).toBe(200);
    });

    it('refuses a weak new password: 400 WeakPassword', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: 'password' }, { token: user.accessToken });

      expectProblem(res, 400, 'WeakPassword');
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(login.status).toBe(200);
    });

    it('changes the password: 204, other sessions end, this one stays', async () => {
      const user = await registerAndLogin(t.http);
      const second = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(second.status).toBe(200);
      const newPassword = 'A brand new passphrase 7';

      const res = await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword }, { token: user.accessToken });

      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expectProblem(await t.http.get('/v1/me', { token: second.body.accessToken }), 401, 'SessionRevoked');
      expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
    });

    it("after a change the other session's refresh token fails too", async () => {
      const user = await registerAndLogin(t.http);
      const second = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(second.status).toBe(200);
      const res = await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword: 'A brand new passphrase 9' }, { token: user.accessToken });
      expect(res.status).toBe(204);

      expectProblem(await t.http.post('/v1/auth/refresh', { refreshToken: second.body.refreshToken }), 401, 'InvalidRefreshToken');
      expect((await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
    });

    it('after a change the old password fails and the new one signs in', async () => {
      const user = await registerAndLogin(t.http);
      const newPassword = 'A brand new passphrase 8';
      const res = await t.http.put('/v1/me/password', { currentPassword: user.password, newPassword }, { token: user.accessToken });
      expect(res.status).toBe(204);

      expectProblem(await t.http.post('/v1/auth/login', { login: user.email, password: user.password }), 401, 'InvalidCredentials');
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: newPassword });
      expect(login.status).toBe(200);
      expect(login.body.user.id).toBe(user.id);
    });

    it('requires both fields: 400 with field errors', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.put('/v1/me/password', {}, { token: user.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
      const fields = res.body.errors.map((error: { field: string }) => error.field);
      expect(fields).toEqual(expect.arrayContaining(['currentPassword', 'newPassword']));
    });
  });

  describe('PUT /v1/me/push-token', () => {
    it('stores the push token: 204', async () => {
      const user = await registerAndLogin(t.http);
      const token = `fcm:${unique('push')}`;
      const res = await t.http.put('/v1/me/push-token', { token }, { token: user.accessToken });

      expect(res.status).toBe(204);
      const [row] = await t.db.query(`SELECT push_token FROM users WHERE id = $1`, [user.id]);
      expect(row.push_token).toBe(token);
    });

    it('clears the push token with null: 204', async () => {
      const user = await registerAndLogin(t.http);
      await t.http.put('/v1/me/push-token', { token: `fcm:${unique('push')}` }, { token: user.accessToken });
      const res = await t.http.put('/v1/me/push-token', { token: null }, { token: user.accessToken });

      expect(res.status).toBe(204);
      const [row] = await t.db.query(`SELECT push_token FROM users WHERE id = $1`, [user.id]);
      expect(row.push_token).toBeNull();
    });

    it('rejects a body without a token: 400', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.put('/v1/me/push-token', {}, { token: user.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
    });
  });

  describe('DELETE /v1/me', () => {
    it('deletes the account: 204, then its access token is refused', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.delete('/v1/me', undefined, { token: user.accessToken });

      expect(res.status).toBe(204);
      const me = await t.http.get('/v1/me', { token: user.accessToken });
      expect(me.status).toBe(401);
      expect(me.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const rows = await t.db.query(`SELECT id FROM users WHERE id = $1`, [user.id]);
      expect(rows).toEqual([]);
    });

    it('after deletion the refresh token fails: 401', async () => {
      const user = await registerAndLogin(t.http);
      expect((await t.http.delete('/v1/me', undefined, { token: user.accessToken })).status).toBe(204);

      const res = await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken });

      expectProblem(res, 401, 'InvalidRefreshToken');
    });

    it('after deletion the same e-mail, username and phone can register again', async () => {
      const user = await registerAndLogin(t.http);
      expect((await t.http.delete('/v1/me', undefined, { token: user.accessToken })).status).toBe(204);

      const res = await t.http.post('/v1/auth/register', { email: user.email, username: user.username, phone: user.phone, password: GOOD_PASSWORD });

      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ email: user.email, username: user.username, phone: user.phone });
      expect(res.body.id).not.toBe(user.id);
    });
  });
});
