import { randomUUID } from 'node:crypto';
import { startApp, TestApp, unique } from './support/app';
import { jwtPayload, promoteToAdmin, registerAndLogin, SignedInUser } from './support/users';
import { ISO_DATE, expectProblem } from './support/expect';

describe('/v1/admin/users', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  /** A fresh administrator (promoted in the database, then signed in again so the token's role claim says so too). */
  async function newAdmin(): Promise<SignedInUser> {
    const user = await registerAndLogin(t.http);
    await promoteToAdmin(t.db, user.id);
    const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
    expect(login.status).toBe(200);
    expect(jwtPayload(login.body.accessToken).role).toBe('administrator');
    return { ...user, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken, sessionId: login.body.sessionId };
  }

  /** Three users sharing a surname nobody else has, created one after another (oldest first). */
  async function threeNamesakes(): Promise<{ surname: string; users: SignedInUser[] }> {
    const surname = unique('Surname');
    const users: SignedInUser[] = [];
    for (let i = 0; i < 3; i++) users.push(await registerAndLogin(t.http, { surname, name: `Name${i}` }));
    return { surname, users };
  }

  describe('access control', () => {
    it('answers 401 without a token', async () => {
      expectProblem(await t.http.get('/v1/admin/users'), 401, 'Unauthenticated');
      expectProblem(await t.http.get(`/v1/admin/users/${randomUUID()}`), 401, 'Unauthenticated');
      expectProblem(await t.http.patch(`/v1/admin/users/${randomUUID()}`, { role: 'administrator' }), 401, 'Unauthenticated');
    });

    it('answers 403 Forbidden to a normal user listing users', async () => {
      const user = await registerAndLogin(t.http);
      expectProblem(await t.http.get('/v1/admin/users', { token: user.accessToken }), 403, 'Forbidden');
    });

    it('answers 403 Forbidden to a normal user reading a user', async () => {
      const user = await registerAndLogin(t.http);
      expectProblem(await t.http.get(`/v1/admin/users/${user.id}`, { token: user.accessToken }), 403, 'Forbidden');
    });

    it('answers 403 Forbidden to a normal user changing a user, and changes nothing', async () => {
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'administrator' }, { token: user.accessToken });

      expectProblem(res, 403, 'Forbidden');
      const [row] = await t.db.query(`SELECT role FROM users WHERE id = $1`, [user.id]);
      expect(row.role).toBe('user');
    });

    it('answers 403 Forbidden to an executor', async () => {
      const user = await registerAndLogin(t.http);
      await t.db.query(`UPDATE users SET role = 'executor' WHERE id = $1`, [user.id]);
      expectProblem(await t.http.get('/v1/admin/users', { token: user.accessToken }), 403, 'Forbidden');
    });

    it('reads the role from the database on every request: a promotion applies to the existing token', async () => {
      const user = await registerAndLogin(t.http);
      expect(jwtPayload(user.accessToken).role).toBe('user');
      await promoteToAdmin(t.db, user.id);

      const res = await t.http.get('/v1/admin/users', { token: user.accessToken });
      expect(res.status).toBe(200);
    });

    it('reads the role from the database on every request: a demoted administrator is refused at once', async () => {
      const admin = await newAdmin();
      await t.db.query(`UPDATE users SET role = 'user' WHERE id = $1`, [admin.id]);

      expectProblem(await t.http.get('/v1/admin/users', { token: admin.accessToken }), 403, 'Forbidden');
    });
  });

  describe('GET /v1/admin/users', () => {
    it('finds by search term, newest first, with page and limit reflected', async () => {
      const admin = await newAdmin();
      const { surname, users } = await threeNamesakes();
      const res = await t.http.get(`/v1/admin/users?search=${surname}&limit=10`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.total).toBe(3);
      expect(res.body.page).toBe(1);
      expect(res.body.limit).toBe(10);
      expect(res.body.items.map((u: { id: string }) => u.id)).toEqual(users.map((u) => u.id).reverse());
      const created = res.body.items.map((u: { createdAt: string }) => new Date(u.createdAt).getTime());
      expect([...created].sort((a, b) => b - a)).toEqual(created);
    });

    it('defaults to page 1 and 20 a page', async () => {
      const admin = await newAdmin();
      const { surname } = await threeNamesakes();
      const res = await t.http.get(`/v1/admin/users?search=${surname}`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 3, page: 1, limit: 20 });
      expect(res.body.items).toHaveLength(3);
    });

    it('searches case-insensitively', async () => {
      const admin = await newAdmin();
      const { surname } = await threeNamesakes();
      const res = await t.http.get(`/v1/admin/users?search=${surname.toUpperCase()}`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.total).toBe(3);
    });

    it('returns users as UserDto, without secrets', async () => {
      const admin = await newAdmin();
      const { surname, users } = await threeNamesakes();
      const res = await t.http.get(`/v1/admin/users?search=${surname}`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      const item = res.body.items.find((u: { id: string }) => u.id === users[0].id);
      expect(item).toMatchObject({
        id: users[0].id,
        email: users[0].email,
        username: users[0].username,
        phone: users[0].phone,
        surname,
        role: 'user',
        status: 'active',
      });
      expect(item.createdAt).toMatch(ISO_DATE);
      expect(res.text).not.toContain('$argon2');
      expect(res.text).not.toMatch(/password|hash/i);
    });

    it('finds a user by a substring of the e-mail', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      const fragment = user.email.slice(4, 14); // inside the unique local part
      const res = await t.http.get(`/v1/admin/users?search=${encodeURIComponent(fragment)}`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.total).toBe(1);
      expect(res.body.items[0].id).toBe(user.id);
    });

    it('finds a user by phone', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      const res = await t.http.get(`/v1/admin/users?search=${encodeURIComponent(user.phone)}`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.total).toBe(1);
      expect(res.body.items[0].id).toBe(user.id);
    });

    it('filters by role', async () => {
      const admin = await newAdmin();
      const { surname, users } = await threeNamesakes();
      const made = await t.http.patch(`/v1/admin/users/${users[1].id}`, { role: 'executor' }, { token: admin.accessToken });
      expect(made.status).toBe(200);

      const res = await t.http.get(`/v1/admin/users?search=${surname}&role=executor`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.total).toBe(1);
      expect(res.body.items.map((u: { id: string }) => u.id)).toEqual([users[1].id]);
      expect(res.body.items[0].role).toBe('executor');
      const plain = await t.http.get(`/v1/admin/users?search=${surname}&role=user`, { token: admin.accessToken });
      expect(plain.body.total).toBe(2);
    });

    it('filters by status', async () => {
      const admin = await newAdmin();
      const { surname, users } = await threeNamesakes();
      expect((await t.http.patch(`/v1/admin/users/${users[0].id}`, { status: 'blocked' }, { token: admin.accessToken })).status).toBe(200);

      const res = await t.http.get(`/v1/admin/users?search=${surname}&status=blocked`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.total).toBe(1);
      expect(res.body.items[0].id).toBe(users[0].id);
    });

    it('paginates: page 2 of 2 a page holds the oldest user, total stays 3', async () => {
      const admin = await newAdmin();
      const { surname, users } = await threeNamesakes();
      const res = await t.http.get(`/v1/admin/users?search=${surname}&page=2&limit=2`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 3, page: 2, limit: 2 });
      expect(res.body.items).toHaveLength(1);
      expect(res.body.items[0].id).toBe(users[0].id);
    });

    it('a page past the end is empty', async () => {
      const admin = await newAdmin();
      const { surname } = await threeNamesakes();
      const res = await t.http.get(`/v1/admin/users?search=${surname}&page=3&limit=2`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: 3, page: 3, items: [] });
    });

    it('accepts limit=100', async () => {
      const admin = await newAdmin();
      const res = await t.http.get('/v1/admin/users?limit=100', { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body.limit).toBe(100);
      expect(res.body.items.length).toBeLessThanOrEqual(100);
    });

    it.each([
      ['limit=101', 'limit'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['page=0', 'page'],
      ['page=-1', 'page'],
      ['role=superuser', 'role'],
      ['status=deleted', 'status'],
    ])('rejects %s: 400 naming the field', async (query, field) => {
      const admin = await newAdmin();
      const res = await t.http.get(`/v1/admin/users?${query}`, { token: admin.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });
  });

  describe('GET /v1/admin/users/{id}', () => {
    it('returns the user', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http, { name: 'Gleb' });
      const res = await t.http.get(`/v1/admin/users/${user.id}`, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id: user.id,
        email: user.email,
        username: user.username,
        phone: user.phone,
        name: 'Gleb',
        role: 'user',
        status: 'active',
        emailVerified: false,
      });
      expect(res.body.createdAt).toMatch(ISO_DATE);
      expect(res.body.updatedAt).toMatch(ISO_DATE);
      expect(res.text).not.toContain('$argon2');
    });

    it('answers 404 for an unknown uuid', async () => {
      const admin = await newAdmin();
      expectProblem(await t.http.get(`/v1/admin/users/${randomUUID()}`, { token: admin.accessToken }), 404, 'UserNotFound');
    });

    it('answers 400 for an id that is not a uuid', async () => {
      const admin = await newAdmin();
      expectProblem(await t.http.get('/v1/admin/users/not-a-uuid', { token: admin.accessToken }), 400);
    });
  });

  describe('PATCH /v1/admin/users/{id}', () => {
    it('changes the role', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'executor' }, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, role: 'executor', status: 'active' });
      const [row] = await t.db.query(`SELECT role FROM users WHERE id = $1`, [user.id]);
      expect(row.role).toBe('executor');
    });

    it('a new sign-in after a role change carries the new role claim', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      expect((await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'executor' }, { token: admin.accessToken })).status).toBe(200);

      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(login.status).toBe(200);
      expect(jwtPayload(login.body.accessToken).role).toBe('executor');
    });

    it('blocks a user: 200 with status blocked', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'blocked' }, { token: admin.accessToken });

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, status: 'blocked', role: 'user' });
    });

    // Blocking "ends every session of the user" (Swagger of adminUpdateUser), so the token's session is gone: 401.
    it("blocking refuses the user's existing access token at once", async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      expect((await t.http.get('/v1/me', { token: user.accessToken })).status).toBe(200);
      expect((await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'blocked' }, { token: admin.accessToken })).status).toBe(200);

      expectProblem(await t.http.get('/v1/me', { token: user.accessToken }), 401, 'SessionRevoked');
    });

    it('a blocked account whose session is still live gets 403 AccountBlocked on /v1/me', async () => {
      const user = await registerAndLogin(t.http);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [user.id]);

      expectProblem(await t.http.get('/v1/me', { token: user.accessToken }), 403, 'AccountBlocked');
    });

    it("blocking makes the user's refresh token fail", async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      expect((await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'blocked' }, { token: admin.accessToken })).status).toBe(200);

      expectProblem(await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken }), 401, 'InvalidRefreshToken');
    });

    it('a blocked user signing in with the right password gets 403 AccountBlocked', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      expect((await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'blocked' }, { token: admin.accessToken })).status).toBe(200);

      expectProblem(await t.http.post('/v1/auth/login', { login: user.email, password: user.password }), 403, 'AccountBlocked');
    });

    it('unblocking lets the user sign in again', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      expect((await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'blocked' }, { token: admin.accessToken })).status).toBe(200);

      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'active' }, { token: admin.accessToken });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('active');
      const login = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(login.status).toBe(200);
      expect((await t.http.get('/v1/me', { token: login.body.accessToken })).status).toBe(200);
    });

    it('rejects an invalid status: 400 naming the field', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { status: 'frozen' }, { token: admin.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('status');
      const [row] = await t.db.query(`SELECT status FROM users WHERE id = $1`, [user.id]);
      expect(row.status).toBe('active');
    });

    it('rejects an invalid role: 400', async () => {
      const admin = await newAdmin();
      const user = await registerAndLogin(t.http);
      const res = await t.http.patch(`/v1/admin/users/${user.id}`, { role: 'superuser' }, { token: admin.accessToken });

      expectProblem(res, 400, 'ValidationFailed');
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('role');
    });

    it('answers 404 for an unknown uuid', async () => {
      const admin = await newAdmin();
      expectProblem(await t.http.patch(`/v1/admin/users/${randomUUID()}`, { role: 'executor' }, { token: admin.accessToken }), 404, 'UserNotFound');
    });

    it('answers 400 for an id that is not a uuid', async () => {
      const admin = await newAdmin();
      expectProblem(await t.http.patch('/v1/admin/users/not-a-uuid', { role: 'executor' }, { token: admin.accessToken }), 400);
    });
  });
});
