import { unique, uniquePhone } from './support/app';
import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { codeIn, linkIn } from './support/mail';
import { totpCode } from './support/mfa';

/**
 * SPEC §9 rule 7: representative flows of every surface at LOG_LEVEL=trace, then not one secret in
 * the captured log: no password, access or refresh token, link token, code or argon2 hash, also
 * when a query fails with the hash among its parameters.
 */
describe('no secret in a log line', () => {
  let t: DeliveryTestApp;
  const secrets = new Set<string>();
  const codes = new Set<string>();
  const keep = <T extends string | undefined>(value: T): T => (value && secrets.add(value), value);
  const password = () => keep(`Pass-${unique()}-phrase`);

  beforeAll(async () => {
    t = await startAppWithDelivery({ LOG_LEVEL: 'trace' });
  });
  afterAll(() => t.close());

  const mailTo = (to: string, subject: RegExp) => t.mail.waitFor((m) => m.to === to && subject.test(m.subject));
  const tokenOf = (link: string) => keep(new URL(link).searchParams.get('token') ?? new URL(link).pathname.split('/').pop()!);
  const pathOf = (link: string) => link.slice(PUBLIC_URL.length);
  /** Not one collected secret, code or argon2 hash anywhere in the captured log. */
  function expectNoSecretInLog(): void {
    const text = t.logText();
    const found = [...secrets].filter((secret) => text.includes(secret));
    found.push(...[...codes].filter((code) => new RegExp(`(?<!\\d)${code}(?!\\d)`).test(text)));
    if (text.includes('$argon2')) found.push('$argon2');
    expect(found).toEqual([]);
  }
  const expectStatus = (res: { status: number; text: string }, status: number) => expect({ status: res.status, text: res.text }).toMatchObject({ status });

  it('covers sign-up, sign-in, refresh, links, codes and the SMS flow on every surface', async () => {
    // /v1: register (a code and a link by e-mail), sign in, refresh, confirm by link.
    const email = `${unique('log')}@example.com`;
    const phone = uniquePhone();
    const first = password();
    expectStatus(await t.http.post('/v1/auth/register', { email, phone, username: unique('log'), password: first }), 201);
    const welcome = await mailTo(email, /^Confirm your e-mail address$/);
    codes.add(codeIn(welcome.text));
    const login = await t.http.post('/v1/auth/login', { login: email, password: first });
    expectStatus(login, 200);
    keep(login.body.accessToken);
    keep(login.body.refreshToken);
    const refreshed = await t.http.post('/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expectStatus(refreshed, 200);
    keep(refreshed.body.accessToken);
    keep(refreshed.body.refreshToken);
    expectStatus(await t.http.get(`/v1/auth/email/confirm?token=${tokenOf(linkIn(welcome.text, '/v1/auth/email/confirm'))}`), 200);

    // 004: the SMS flow (before the e-mail resets: a reset detaches contacts nobody verified, SPEC §9 rule 2).
    expectStatus(await t.http.patch('/me/password', { phone }), 200);
    const smsCode = codeIn((await t.sms.waitFor((m) => m.to === phone)).text);
    codes.add(smsCode);
    expectStatus(await t.http.patch('/me/password', { phone, code: smsCode, password: password() }), 200);

    // /v1: reset by link (checked with GET first), then by code.
    expectStatus(await t.http.post('/v1/auth/password/forgot', { email }), 202);
    const resetMail = await mailTo(email, /^Reset your password$/);
    codes.add(codeIn(resetMail.text));
    const resetToken = tokenOf(linkIn(resetMail.text, '/v1/auth/password/reset'));
    expectStatus(await t.http.get(`/v1/auth/password/reset?token=${resetToken}`), 200);
    expectStatus(await t.http.post('/v1/auth/password/reset', { token: resetToken, password: password() }), 204);
    await t.endCooldown(email);
    const before = t.mail.messages.length;
    expectStatus(await t.http.post('/v1/auth/password/forgot', { email }), 202);
    const second = await t.mail.waitFor((m) => m.to === email && /^Reset your password$/.test(m.subject) && t.mail.messages.indexOf(m) >= before);
    const code = codeIn(second.text);
    codes.add(code);
    expectStatus(await t.http.post('/v1/auth/password/reset', { email, code, password: password() }), 204);

    // 003: register (confirmation link), confirm, sign in, reset by link.
    const bob = { username: unique('bob'), email: `${unique('bob')}@example.com`, pwd: password() };
    expectStatus(await t.http.post('/api/registration', bob), 200);
    const confirmPath = pathOf(linkIn((await mailTo(bob.email, /^Confirm your e-mail address$/)).text, '/api/confirm_email/'));
    tokenOf(PUBLIC_URL + confirmPath);
    expectStatus(await t.http.get(confirmPath), 200);
    keep((await t.http.post('/api/login', { username: bob.username, pwd: bob.pwd })).body.data.token);
    expectStatus(await t.http.post('/api/reset_password_request', { username: bob.username }), 200);
    const resetPath = pathOf(linkIn((await mailTo(bob.email, /^Reset your password$/)).text, '/api/reset_password/'));
    tokenOf(PUBLIC_URL + resetPath);
    expectStatus(await t.http.post(resetPath, { new_pwd: password() }), 200);

    // 001 and 002: register, sign in, refresh.
    const carol = { username: unique('carol'), email: `${unique('carol')}@example.com`, password: password() };
    expectStatus(await t.http.post('/auth/register', carol), 201);
    keep((await t.http.post('/auth/login', { email_or_name: carol.username, password: carol.password })).body.data.token);
    const dave = { email: `${unique('dave')}@example.com`, password: password() };
    expectStatus(await t.http.post('/users/auth/registration', dave), 201);
    const pair = await t.http.post('/users/auth/token', dave);
    keep(pair.body.access);
    keep(pair.body.refresh);
    keep((await t.http.post('/users/auth/token/refresh', { refresh: pair.body.refresh })).body.refresh);

    expect(secrets.size).toBeGreaterThan(15);
    expect(codes.size).toBe(4);
    expectNoSecretInLog();
    const requests = t.logs.map((line) => line.req ?? {});
    expect(requests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/api/confirm_email/[redacted]' }),
        expect.objectContaining({ path: '/api/reset_password/[redacted]' }),
        expect.objectContaining({ path: '/v1/auth/email/confirm', query: 'token=[redacted]' }),
        expect.objectContaining({ path: '/v1/auth/password/reset', query: 'token=[redacted]' }),
      ]),
    );
  });

  it('second factors: no TOTP secret or code, recovery code or app password in the log (issue 12)', async () => {
    const email = `${unique('mfa')}@example.com`;
    const first = password();
    expectStatus(await t.http.post('/v1/auth/register', { email, password: first }), 201);
    const signedIn = await t.http.post('/v1/auth/login', { login: email, password: first });
    const token = keep(signedIn.body.accessToken as string);
    const started = await t.http.post('/v1/me/factors/totp', {}, { token });
    expectStatus(started, 201);
    const secret = keep(started.body.secret as string);
    keep(encodeURIComponent(secret));
    const enrolCode = totpCode(secret);
    codes.add(enrolCode);
    const confirmed = await t.http.post('/v1/me/factors/totp/confirm', { code: enrolCode }, { token });
    expectStatus(confirmed, 200);
    const recoveryCodes = confirmed.body.recoveryCodes as string[];
    recoveryCodes.forEach((code) => (keep(code), keep(code.replace(/-/g, ''))));
    const [{ secret: sealed }] = await t.db.query(`SELECT secret FROM credentials WHERE type = 'totp' AND user_id = $1`, [signedIn.body.user.id]);
    keep(sealed);

    const stepCode = totpCode(secret, 1);
    codes.add(stepCode);
    const stepUp = await t.http.post('/v1/me/step-up', {}, { token });
    const aal2 = keep(
      (await t.http.post('/v1/me/step-up/verify', { challengeId: stepUp.body.challengeId, totp: stepCode }, { token })).body.accessToken as string,
    );
    const app = await t.http.post('/v1/me/app-passwords', { name: 'log test' }, { token: aal2 });
    expectStatus(app, 201);
    keep(app.body.password);
    keep((app.body.password as string).replace(/-/g, ''));
    expectStatus(await t.http.post('/auth/login', { email_or_name: email, password: app.body.password }), 200);
    expectStatus(await t.http.post('/auth/login', { email_or_name: email, password: first }), 401);

    const challenge = await t.http.post('/v1/auth/login', { login: email, password: first });
    expectStatus(await t.http.post('/v1/auth/login/mfa', { challengeId: challenge.body.challengeId, recoveryCode: recoveryCodes[0] }), 200);
    const wrong = await t.http.post('/v1/auth/login', { login: email, password: first });
    expectStatus(await t.http.post('/v1/auth/login/mfa', { challengeId: wrong.body.challengeId, recoveryCode: recoveryCodes[0] }), 401);

    expectNoSecretInLog();
  });

  it('a query that fails with the argon2 hash among its parameters is logged without SQL, parameters or values', async () => {
    // A constraint only this test database has: storing a password credential fails, with the new
    // argon2 hash among the INSERT's parameters (and the registration's user row rolled back with it).
    await t.db.query(`ALTER TABLE credentials ADD CONSTRAINT log_test_refuses CHECK (type <> 'password') NOT VALID`);
    try {
      const eve = `${unique('eve')}@example.com`;
      const res = await t.http.post('/users/auth/registration', { email: eve, surname: 'force-a-failure', password: password() });
      expect({ status: res.status, body: res.body }).toEqual({ status: 500, body: { detail: 'A server error occurred.' } });
      expect(await t.db.query('SELECT id FROM users WHERE email = $1', [eve])).toEqual([]);
    } finally {
      await t.db.query('ALTER TABLE credentials DROP CONSTRAINT log_test_refuses');
    }
    const failure = t.logs.find((line) => (line.err as { type?: string } | undefined)?.type === 'QueryFailedError');
    expect(failure).toMatchObject({ level: 50, err: { sqlState: '23514', constraint: 'log_test_refuses', table: 'credentials' } });
    expect(JSON.stringify(failure)).not.toMatch(/INSERT|Failing row|force-a-failure|parameters|driverError/);
    expectNoSecretInLog();
  });
});
