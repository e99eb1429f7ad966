import { plainToInstance } from 'class-transformer';
import { UsersApiAcceptEmailDto } from '../src/api/legacy/users-002/users-api.dto';
import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { allKeys, ISO_DATE } from './support/expect';
import { HttpResponse, RequestOptions } from './support/http';
import { codeIn } from './support/mail';
import { jwtPayload } from './support/users';

/** Document 002 (seeds/002): the users API under /users/, DRF envelopes. */
describe('legacy 002: users API under /users/', () => {
  let t: DeliveryTestApp;

  beforeAll(async () => {
    t = await startAppWithDelivery();
  });
  afterAll(() => t.close());

  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const REGISTERED_KEYS = ['address', 'email', 'name', 'number', 'patronymic', 'surname'];
  const USER_KEYS = [...REGISTERED_KEYS, 'confirmed_email', 'confirmed_number', 'created_at', 'id', 'updated_at'].sort();
  const TOKEN_KEYS = ['access', 'expired_at', 'refresh'];
  const NO_CREDENTIALS = { detail: 'Authentication credentials were not provided.' };
  const BAD_TOKEN = { detail: 'Given token not valid for any token type' };
  const NEW_PASSWORD = 'Another fine passphrase 77';

  // ------------------------------------------------------------------------------------------
  // Every request goes through these: each response is checked for secrets (SPEC §4).

  const SECRET_KEY = /password|hash|secret|private|code/i;

  /**
   * Keys named like a secret that carry a value. The documented ones only carry messages: a DRF field
   * error (`"password": ["…"]`) and PATCH's report line (`"Password": "Password successfully changed"`).
   */
  function secretFields(value: unknown): string[] {
    if (Array.isArray(value)) return value.flatMap(secretFields);
    if (!value || typeof value !== 'object') return [];
    return Object.entries(value).flatMap(([key, inner]) => {
      const message = (Array.isArray(inner) && inner.every((item) => typeof item === 'string')) || (key === 'Password' && typeof inner === 'string');
      return [...(SECRET_KEY.test(key) && !message ? [key] : []), ...secretFields(inner)];
    });
  }

  function noSecrets(res: HttpResponse): HttpResponse {
    expect(secretFields(res.body)).toEqual([]);
    expect(allKeys(res.body).filter((key) => /hash/i.test(key))).toEqual([]);
    for (const secret of [GOOD_PASSWORD, NEW_PASSWORD, '$argon2']) expect(res.text).not.toContain(secret);
    return res;
  }
  const get = async (path: string, options?: RequestOptions) => noSecrets(await t.http.get(path, options));
  const post = async (path: string, body?: unknown, options?: RequestOptions) => noSecrets(await t.http.post(path, body, options));
  const patch = async (path: string, body?: unknown, options?: RequestOptions) => noSecrets(await t.http.patch(path, body, options));
  const del = async (path: string, options?: RequestOptions) => noSecrets(await t.http.delete(path, undefined, options));

  /** Status and body together, so a failure shows what came back. */
  function expectReply(res: HttpResponse, status: number, body?: unknown): void {
    expect({ status: res.status, body: res.body }).toEqual({ status, body: body === undefined ? expect.anything() : body });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  }

  interface Account {
    email: string;
    number: string;
    password: string;
    registered: Record<string, unknown>;
  }

  async function register(overrides: Record<string, unknown> = {}): Promise<Account> {
    const input = {
      surname: 'Ivanov',
      name: 'Ivan',
      patronymic: 'Ivanovich',
      address: 'Moscow, Tverskaya 1',
      email: `${unique('u002')}@example.com`,
      number: uniquePhone(),
      password: GOOD_PASSWORD,
      ...overrides,
    };
    const res = await post('/users/auth/registration/', input);
    expectReply(res, 201);
    return { email: input.email as string, number: input.number as string, password: input.password as string, registered: res.body };
  }

  async function signIn(account: Pick<Account, 'email' | 'password'>): Promise<{ access: string; refresh: string }> {
    const res = await post('/users/auth/token/', { email: account.email, password: account.password });
    expectReply(res, 200);
    return res.body;
  }

  async function signedIn(overrides: Record<string, unknown> = {}) {
    const account = await register(overrides);
    return { ...account, ...(await signIn(account)) };
  }

  const userIdOf = async (email: string): Promise<string> => (await t.db.query(`SELECT id FROM users WHERE email = $1`, [email]))[0].id;

  // ------------------------------------------------------------------------------------------

  describe('POST /users/auth/registration/', () => {
    it('201 with exactly the documented fields (number in E.164), never the password, and sends no e-mail', async () => {
      const email = `${unique('reg')}@example.com`;
      const number = uniquePhone();
      const res = await post('/users/auth/registration/', {
        surname: 'user1',
        name: 'user1@gmail.com',
        patronymic: 'user1',
        address: 'user1address',
        email,
        number: `8${number.slice(2)}`,
        password: GOOD_PASSWORD,
      });

      expectReply(res, 201, { surname: 'user1', name: 'user1@gmail.com', patronymic: 'user1', address: 'user1address', email, number });
      expect(Object.keys(res.body).sort()).toEqual(REGISTERED_KEYS);

      const id = await userIdOf(email);
      const queued = await t.db.query(`SELECT count(*)::int AS n FROM outbox_messages WHERE user_id = $1`, [id]);
      expect(queued[0].n).toBe(0);
      expect(t.mail.mailsTo(email)).toHaveLength(0);
    });

    it('works without a trailing slash; fields not sent are null', async () => {
      const email = `${unique('reg')}@example.com`;
      const res = await post('/users/auth/registration', { email, password: GOOD_PASSWORD });
      expectReply(res, 201, { surname: null, name: null, patronymic: null, address: null, email, number: null });
    });

    it('400 with DRF field errors for a malformed e-mail, a missing password and a wrong type', async () => {
      const res = await post('/users/auth/registration/', { email: 'not-an-email', surname: 42, number: uniquePhone() });
      expectReply(res, 400, { email: ['Enter a valid email address.'], password: ['This field is required.'], surname: ['Not a valid string.'] });
    });

    it('400 {"password": [reason]} for a password the policy refuses', async () => {
      const res = await post('/users/auth/registration/', { email: `${unique('reg')}@example.com`, password: 'short' });
      expectReply(res, 400, { password: ['password must be at least 8 characters long'] });
    });

    it('400 {"number": [...]} for a number that is not a phone number', async () => {
      const res = await post('/users/auth/registration/', { email: `${unique('reg')}@example.com`, number: '+7123', password: GOOD_PASSWORD });
      expectReply(res, 400, { number: ['Enter a valid phone number.'] });
    });

    it('400 non_field_errors without an e-mail and a number', async () => {
      const res = await post('/users/auth/registration/', { name: 'Nobody', password: GOOD_PASSWORD });
      expectReply(res, 400, { non_field_errors: ['Either email or number is required.'] });
    });

    it('409 {"email": [...]} / {"number": [...]} when they belong to another account', async () => {
      const first = await register();
      const sameEmail = await post('/users/auth/registration/', { email: first.email.toUpperCase(), password: GOOD_PASSWORD });
      expectReply(sameEmail, 409, { email: ['user with this email already exists.'] });
      const sameNumber = await post('/users/auth/registration/', { email: `${unique('reg')}@example.com`, number: first.number, password: GOOD_PASSWORD });
      expectReply(sameNumber, 409, { number: ['user with this number already exists.'] });
    });

    it('400 {"detail": "JSON parse error - …"} for a body that is not JSON', async () => {
      const res = await post('/users/auth/registration/', undefined, { raw: '{"email": "a@b.c",' });
      expectReply(res, 400, { detail: expect.stringMatching(/^JSON parse error - /) });
      expect(Object.keys(res.body)).toEqual(['detail']);
    });
  });

  describe('POST /users/auth/token/', () => {
    it('200 {refresh, access, expired_at} by e-mail; expired_at is the access lifetime in seconds', async () => {
      const account = await register();
      const res = await post('/users/auth/token/', { email: account.email, password: GOOD_PASSWORD });

      expectReply(res, 200);
      expect(Object.keys(res.body).sort()).toEqual(TOKEN_KEYS);
      expect(res.body).toEqual({ refresh: expect.any(String), access: expect.any(String), expired_at: 900 });
      expect(Number.isInteger(res.body.expired_at)).toBe(true);
      const payload = jwtPayload(res.body.access);
      expect(payload.exp - payload.iat).toBe(900);
      expectReply(await get('/users/user/', { token: res.body.access }), 200);
    });

    it('200 by number, in E.164 or in the 8XXXXXXXXXX form', async () => {
      const account = await register();
      for (const number of [account.number, `8${account.number.slice(2)}`]) {
        const res = await post('/users/auth/token', { number, password: GOOD_PASSWORD });
        expectReply(res, 200);
        expect(Object.keys(res.body).sort()).toEqual(TOKEN_KEYS);
        const me = await get('/users/user/', { token: res.body.access });
        expect(me.body.email).toBe(account.email);
      }
    });

    it('401 {"detail": "No active account found with the given credentials"} for a wrong password or unknown account', async () => {
      const account = await register();
      const wrong = await post('/users/auth/token/', { email: account.email, password: 'not the password at all' });
      expectReply(wrong, 401, { detail: 'No active account found with the given credentials' });
      const unknown = await post('/users/auth/token/', { number: uniquePhone(), password: GOOD_PASSWORD });
      expectReply(unknown, 401, { detail: 'No active account found with the given credentials' });
    });

    it('429 {"detail": "Too many failed sign-in attempts. …"} with Retry-After once the account is locked, even with the right password', async () => {
      const account = await register();
      for (let i = 0; i < 10; i++) {
        expectReply(await post('/users/auth/token/', { email: account.email, password: 'not the password at all' }), 401, {
          detail: 'No active account found with the given credentials',
        });
      }

      const res = await post('/users/auth/token/', { email: account.email, password: GOOD_PASSWORD });

      const retryAfter = Number(res.headers.get('retry-after'));
      expectReply(res, 429, { detail: `Too many failed sign-in attempts. Expected available in ${retryAfter} seconds.` });
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    });

    it('403 {"detail": "User account is disabled."} for a blocked account, even with the right password', async () => {
      const account = await register();
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE email = $1`, [account.email]);

      expectReply(await post('/users/auth/token/', { email: account.email, password: GOOD_PASSWORD }), 403, { detail: 'User account is disabled.' });
      expectReply(await post('/users/auth/token/', { number: account.number, password: GOOD_PASSWORD }), 403, { detail: 'User account is disabled.' });
    });

    it('400 without a password, or without both e-mail and number', async () => {
      expectReply(await post('/users/auth/token/', { email: 'a@example.com' }), 400, { password: ['This field is required.'] });
      expectReply(await post('/users/auth/token/', { password: GOOD_PASSWORD }), 400, { non_field_errors: ['Either email or number is required.'] });
    });
  });

  describe('POST /users/auth/token/refresh', () => {
    it('200 with a new pair; the refresh token rotates and the new access token works', async () => {
      const { refresh } = await signedIn();
      const res = await post('/users/auth/token/refresh', { refresh });

      expectReply(res, 200);
      expect(Object.keys(res.body).sort()).toEqual(TOKEN_KEYS);
      expect(res.body.expired_at).toBe(900);
      expect(res.body.refresh).not.toBe(refresh);
      expectReply(await get('/users/user/', { token: res.body.access }), 200);
    });

    it('an old refresh token used again later is refused and revokes the session', async () => {
      const { refresh, access } = await signedIn();
      const rotated = await post('/users/auth/token/refresh/', { refresh });
      expectReply(rotated, 200);
      // "Later": past the 5-second grace window for parallel tabs (SPEC §5).
      await t.db.query(`UPDATE sessions SET rotated_at = rotated_at - interval '1 minute' WHERE id = $1`, [jwtPayload(access).sid]);

      expectReply(await post('/users/auth/token/refresh/', { refresh }), 401, { detail: 'Token is invalid or expired' });
      expectReply(await get('/users/user/', { token: rotated.body.access }), 401, BAD_TOKEN);
      expectReply(await post('/users/auth/token/refresh/', { refresh: rotated.body.refresh }), 401, { detail: 'Token is invalid or expired' });
    });

    it('401 for a token we never issued, 400 without one', async () => {
      expectReply(await post('/users/auth/token/refresh', { refresh: unique('garbage') }), 401, { detail: 'Token is invalid or expired' });
      expectReply(await post('/users/auth/token/refresh', {}), 400, { refresh: ['This field is required.'] });
    });
  });

  describe('GET /users/user/', () => {
    it('200 with exactly the documented object (uuid id, booleans, ISO dates)', async () => {
      const account = await signedIn();
      const res = await get('/users/user/', { token: account.access });

      expectReply(res, 200);
      expect(Object.keys(res.body).sort()).toEqual(USER_KEYS);
      expect(res.body).toEqual({
        id: expect.stringMatching(UUID),
        surname: 'Ivanov',
        name: 'Ivan',
        patronymic: 'Ivanovich',
        address: 'Moscow, Tverskaya 1',
        email: account.email,
        number: account.number,
        confirmed_email: false,
        confirmed_number: false,
        created_at: expect.stringMatching(ISO_DATE),
        updated_at: expect.stringMatching(ISO_DATE),
      });
      expect(res.body.id).toBe(await userIdOf(account.email));
    });

    it('accepts the access token as "Token <access>" too, without the trailing slash', async () => {
      const account = await signedIn();
      const res = await get('/users/user', { token: account.access, scheme: 'Token' });
      expectReply(res, 200);
      expect(res.body.email).toBe(account.email);
    });

    it('401 DRF details without a token and with a bad one', async () => {
      expectReply(await get('/users/user/'), 401, NO_CREDENTIALS);
      expectReply(await get('/users/user/', { token: 'not.a.jwt' }), 401, BAD_TOKEN);
    });
  });

  describe('PATCH /users/user/', () => {
    it('applies the documented example and reports every field as changed', async () => {
      const account = await signedIn();
      const email = `${unique('changed')}@example.com`;
      const number = uniquePhone();
      const res = await patch(
        '/users/user/',
        { surname: 'user1', name: 'user1Changed@gmail.com', patronymic: 'user1Changed', address: 'user1Changedaddress', email, number, password: NEW_PASSWORD },
        { token: account.access },
      );

      expectReply(res, 200, {
        success: {
          Surname: 'Surname successfully changed',
          Name: 'Name successfully changed',
          Patronymic: 'Patronymic successfully changed',
          Address: 'Address successfully changed',
          Email: 'Email successfully changed',
          Number: 'Number successfully changed',
          Password: 'Password successfully changed',
        },
        error: {},
      });
      const me = await get('/users/user/', { token: account.access });
      expect(me.body).toMatchObject({
        surname: 'user1',
        name: 'user1Changed@gmail.com',
        patronymic: 'user1Changed',
        address: 'user1Changedaddress',
        email,
        number,
      });
      expectReply(await post('/users/auth/token/', { email, password: NEW_PASSWORD }), 200);
    });

    it('a mix of valid and invalid fields: reports both, applies the valid ones', async () => {
      const other = await register();
      const account = await signedIn();
      const res = await patch(
        '/users/user',
        { surname: 'Petrov', name: 'Pyotr', email: other.email, number: '12', patronymic: 42, password: 'short', unknown_field: 'ignored' },
        { token: account.access },
      );

      expectReply(res, 200, {
        success: { Surname: 'Surname successfully changed', Name: 'Name successfully changed' },
        error: {
          Patronymic: 'Not a valid string.',
          Email: 'user with this email already exists.',
          Number: 'Enter a valid phone number.',
          Password: 'password must be at least 8 characters long',
        },
      });
      const me = await get('/users/user/', { token: account.access });
      expect(me.body).toMatchObject({ surname: 'Petrov', name: 'Pyotr', patronymic: 'Ivanovich', email: account.email, number: account.number });
      expectReply(await post('/users/auth/token/', { email: account.email, password: GOOD_PASSWORD }), 200);
    });

    it('a new password ends the other sessions, keeps this one, and signs in; the old one no longer does', async () => {
      const account = await signedIn();
      const other = await signIn(account);
      const res = await patch('/users/user/', { password: NEW_PASSWORD }, { token: account.access });
      expectReply(res, 200, { success: { Password: 'Password successfully changed' }, error: {} });

      expectReply(await get('/users/user/', { token: account.access }), 200);
      expectReply(await get('/users/user/', { token: other.access }), 401, BAD_TOKEN);
      expectReply(await post('/users/auth/token/refresh', { refresh: other.refresh }), 401, { detail: 'Token is invalid or expired' });
      expectReply(await post('/users/auth/token/', { email: account.email, password: GOOD_PASSWORD }), 401);
      expectReply(await post('/users/auth/token/', { number: account.number, password: NEW_PASSWORD }), 200);
    });

    it('a new e-mail clears confirmed_email (and a new number confirmed_number)', async () => {
      const account = await signedIn();
      await t.db.query(`UPDATE users SET email_verified_at = now(), phone_verified_at = now() WHERE email = $1`, [account.email]);
      const before = await get('/users/user/', { token: account.access });
      expect(before.body).toMatchObject({ confirmed_email: true, confirmed_number: true });

      const email = `${unique('new')}@example.com`;
      expectReply(await patch('/users/user/', { email }, { token: account.access }), 200, { success: { Email: 'Email successfully changed' }, error: {} });
      const afterEmail = await get('/users/user/', { token: account.access });
      expect(afterEmail.body).toMatchObject({ email, confirmed_email: false, confirmed_number: true });

      expectReply(await patch('/users/user/', { number: uniquePhone() }, { token: account.access }), 200);
      expect((await get('/users/user/', { token: account.access })).body).toMatchObject({ confirmed_email: false, confirmed_number: false });
    });

    it('an empty body changes nothing: 200 with two empty maps', async () => {
      const account = await signedIn();
      expectReply(await patch('/users/user/', {}, { token: account.access }), 200, { success: {}, error: {} });
    });

    it('400 for a body that is not JSON or not an object; 401 without a token', async () => {
      const account = await signedIn();
      const malformed = await patch('/users/user/', undefined, { token: account.access, raw: '{"name": ' });
      expectReply(malformed, 400, { detail: expect.stringMatching(/^JSON parse error - /) });
      const list = await patch('/users/user/', [{ name: 'x' }], { token: account.access });
      expectReply(list, 400, { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] });
      expectReply(await patch('/users/user/', { name: 'x' }), 401, NO_CREDENTIALS);
    });
  });

  describe('DELETE /users/user/', () => {
    it('200 {"detail": "Successfully deleted"}; the tokens stop working and the e-mail and number are free again', async () => {
      const account = await signedIn();
      const res = await del('/users/user/', { token: account.access });
      expectReply(res, 200, { detail: 'Successfully deleted' });

      expectReply(await get('/users/user/', { token: account.access }), 401, BAD_TOKEN);
      expectReply(await post('/users/auth/token/refresh', { refresh: account.refresh }), 401, { detail: 'Token is invalid or expired' });
      expectReply(await post('/users/auth/token/', { email: account.email, password: GOOD_PASSWORD }), 401);
      const again = await register({ email: account.email, number: account.number });
      expect(again.registered).toMatchObject({ email: account.email, number: account.number });
    });

    it('401 without a token', async () => {
      expectReply(await del('/users/user/'), 401, NO_CREDENTIALS);
    });
  });

  describe('GET /users/user/executor/', () => {
    let viewer: { access: string };
    const executorIds: string[] = [];
    let plainId: string;

    beforeAll(async () => {
      viewer = await signedIn();
      for (let i = 0; i < 3; i++) {
        const account = await register();
        const id = await userIdOf(account.email);
        await t.db.query(`UPDATE users SET role = 'executor' WHERE id = $1`, [id]);
        executorIds.push(id);
      }
      plainId = await userIdOf((await register()).email);
    });

    it('200: a JSON array of the documented user objects, only executors', async () => {
      const res = await get('/users/user/executor/', { token: viewer.access });
      expectReply(res, 200);
      expect(Array.isArray(res.body)).toBe(true);
      const ids = res.body.map((user: { id: string }) => user.id);
      expect(ids).toEqual(expect.arrayContaining(executorIds));
      expect(ids).not.toContain(plainId);
      for (const user of res.body) expect(Object.keys(user).sort()).toEqual(USER_KEYS);

      const roles = await t.db.query(`SELECT DISTINCT role FROM users WHERE id = ANY($1::uuid[])`, [ids]);
      expect(roles).toEqual([{ role: 'executor' }]);
    });

    it('honours limit and offset; limit above 100 counts as 100', async () => {
      const all = await get('/users/user/executor/?limit=100', { token: viewer.access });
      expect(all.body.length).toBeGreaterThanOrEqual(3);

      const page = await get('/users/user/executor/?limit=1&offset=1', { token: viewer.access });
      expectReply(page, 200, [all.body[1]]);
      const tail = await get(`/users/user/executor?offset=${all.body.length - 1}`, { token: viewer.access });
      expectReply(tail, 200, [all.body[all.body.length - 1]]);
      const big = await get('/users/user/executor/?limit=1000', { token: viewer.access });
      expectReply(big, 200, all.body);
    });

    it('400 DRF field errors for a bad limit or offset; 401 without a token', async () => {
      expectReply(await get('/users/user/executor/?limit=abc', { token: viewer.access }), 400, { limit: ['A valid integer is required.'] });
      expectReply(await get('/users/user/executor/?offset=-1', { token: viewer.access }), 400, {
        offset: ['Ensure this value is greater than or equal to 0.'],
      });
      expectReply(await get('/users/user/executor/?limit=0', { token: viewer.access }), 400, { limit: ['Ensure this value is greater than or equal to 1.'] });
      expectReply(await get('/users/user/executor/'), 401, NO_CREDENTIALS);
    });
  });

  describe('POST /users/verify-email/ and /users/accept-email/', () => {
    /** Asks for a code and reads it from the message that arrives over SMTP. */
    async function requestCode(account: { email: string; access: string }): Promise<string> {
      await t.endCooldown(account.email);
      // Asking until a code starts with 0 may take more than MAX_EMAILS_PER_DAY messages.
      const [{ id }] = await t.db.query(`SELECT id FROM users WHERE email = $1`, [account.email]);
      await t.endMessageCaps(id);
      const sentBefore = t.mail.mailsTo(account.email).length;
      expectReply(await post('/users/verify-email/', undefined, { token: account.access }), 200, { detail: 'Code sent' });
      const message = await t.mail.waitFor((m) => m.to === account.email && t.mail.mailsTo(account.email).indexOf(m) >= sentBefore);
      return codeIn(message.text);
    }

    it('e-mails a code; accept-email with the code as a JSON number confirms the e-mail', async () => {
      const account = await signedIn();
      // Sent as a JSON number, a code loses its leading zeros: the left-padding is checked below, on the DTO.
      const code = await requestCode(account);
      expect(code).toMatch(/^\d{6}$/);

      const res = await post('/users/accept-email/', { code: Number(code) }, { token: account.access });
      expectReply(res, 200, { detail: 'Successfully confirmed' });
      expect((await get('/users/user/', { token: account.access })).body.confirmed_email).toBe(true);

      expectReply(await post('/users/verify-email/', undefined, { token: account.access }), 409, { detail: 'Email is already confirmed.' });
    });

    it('accepts the code as a string; the code is single use', async () => {
      const account = await signedIn();
      const code = await requestCode(account);
      expectReply(await post('/users/accept-email', { code }, { token: account.access }), 200, { detail: 'Successfully confirmed' });
      expectReply(await post('/users/accept-email', { code }, { token: account.access }), 400, { detail: 'Invalid or expired code.' });
    });

    it('400 {"detail": …} for a wrong code, and for an expired one', async () => {
      const account = await signedIn();
      const code = await requestCode(account);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      expectReply(await post('/users/accept-email/', { code: wrong }, { token: account.access }), 400, { detail: 'Invalid or expired code.' });

      await t.expireSecrets(await userIdOf(account.email));
      expectReply(await post('/users/accept-email/', { code: Number(code) }, { token: account.access }), 400, { detail: 'Invalid or expired code.' });
      expect((await get('/users/user/', { token: account.access })).body.confirmed_email).toBe(false);
    });

    it('400 {"code": ["This field is required."]} without a code; 401 without a token', async () => {
      const account = await signedIn();
      expectReply(await post('/users/accept-email/', {}, { token: account.access }), 400, { code: ['This field is required.'] });
      expectReply(await post('/users/accept-email/', { code: 123456 }), 401, NO_CREDENTIALS);
      expectReply(await post('/users/verify-email/'), 401, NO_CREDENTIALS);
    });

    it('429 with Retry-After when a code was sent less than a minute ago', async () => {
      const account = await signedIn();
      await requestCode(account);
      const res = await post('/users/verify-email/', undefined, { token: account.access });
      expectReply(res, 429, { detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/) });
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    });

    it('400 when the account has no e-mail', async () => {
      const number = uniquePhone();
      expectReply(await post('/users/auth/registration/', { number, password: GOOD_PASSWORD }), 201);
      const { access } = (await post('/users/auth/token/', { number, password: GOOD_PASSWORD })).body;
      expectReply(await post('/users/verify-email/', undefined, { token: access }), 400, { detail: 'This account has no email address.' });
    });

    it('a numeric code is left-padded to 6 digits', () => {
      const read = (code: unknown) => plainToInstance(UsersApiAcceptEmailDto, { code }).code;
      expect(read(0)).toBe('000000');
      expect(read(1234)).toBe('001234');
      expect(read(123456)).toBe('123456');
      expect(read(' 012345 ')).toBe('012345');
    });
  });
});
