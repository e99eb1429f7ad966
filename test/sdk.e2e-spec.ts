import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIdentityClient, IdentityClient, Schema } from '../sdk';
import { GOOD_PASSWORD, unique, uniquePhone } from './support/app';
import { DeliveryTestApp, startAppWithDelivery } from './support/delivery';
import { codeIn } from './support/mail';
import { totpCode } from './support/mfa';
import { promoteToAdmin } from './support/users';

/**
 * The main journeys of a frontend, driven through the generated SDK (`sdk/`), so the typed client
 * works against the real server. `tsc` runs before the tests (`npm test`'s pretest), so a journey
 * that no longer type-checks against the document fails the run too.
 */
describe('the generated TypeScript SDK', () => {
  let t: DeliveryTestApp;
  let api: IdentityClient;
  const NEW_PASSWORD = 'A brand-new passphrase 2026';

  beforeAll(async () => {
    t = await startAppWithDelivery();
    api = createIdentityClient({ baseUrl: t.http.baseUrl });
  });
  afterAll(() => t.close());
  beforeEach(() => api.useToken(null));

  /** A sign-in answer is a token pair, or a second-factor challenge (`mfaRequired`): a frontend narrows it like this. */
  function tokens(answer: Schema<'LoginResponseDto'> | Schema<'MfaChallengeDto'> | undefined): Schema<'LoginResponseDto'> {
    if (!answer || 'mfaRequired' in answer) throw new Error('expected a token pair, got a second-factor challenge');
    return answer;
  }

  it('sdk/schema.d.ts is what `npm run sdk` generates from the committed document', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sdk-')), 'schema.d.ts');
    // The same command as `npm run sdk` (package.json).
    execFileSync(
      process.execPath,
      [
        join(__dirname, '..', 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
        join(__dirname, '..', 'openapi/openapi.json'),
        '--default-non-nullable',
        'false',
        '-o',
        out,
      ],
      { stdio: 'pipe' },
    );
    if (readFileSync(out, 'utf8') !== readFileSync(join(__dirname, '..', 'sdk/schema.d.ts'), 'utf8')) {
      throw new Error('sdk/schema.d.ts is stale: run `npm run sdk` and commit it');
    }
  });

  it('/v1: register, verify the e-mail, sign in, refresh, profile, password, sessions, logout', async () => {
    const email = `${unique('sdk')}@example.com`;
    const registered = await api.POST('/v1/auth/register', { body: { email, username: unique('sdk'), password: GOOD_PASSWORD, locale: 'en' } });
    expect(registered.response.status).toBe(201);
    expect(registered.data!.email).toBe(email);

    const login = await api.POST('/v1/auth/login', { body: { login: email, password: GOOD_PASSWORD } });
    expect(login.response.status).toBe(200);
    const pair = tokens(login.data);
    api.useToken(pair.accessToken);

    const welcome = await t.mail.waitFor((m) => m.to === email && m.subject === 'Confirm your e-mail address');
    const confirmed = await api.POST('/v1/me/email/verification/confirm', { body: { code: codeIn(welcome.text) } });
    expect(confirmed.data!.emailVerified).toBe(true);

    const refreshed = await api.POST('/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } });
    expect(refreshed.response.status).toBe(200);
    api.useToken(refreshed.data!.accessToken);

    const me = await api.GET('/v1/me');
    expect(me.data).toMatchObject({ email, emailVerified: true });
    const renamed = await api.PATCH('/v1/me', { body: { name: 'Anna', surname: 'Petrova' } });
    expect(renamed.data).toMatchObject({ name: 'Anna', fullName: 'Petrova Anna' });

    const other = tokens(
      (await createIdentityClient({ baseUrl: t.http.baseUrl }).POST('/v1/auth/login', { body: { login: email, password: GOOD_PASSWORD } })).data,
    );
    const sessions = await api.GET('/v1/me/sessions');
    expect(sessions.data!.map((session) => session.id)).toEqual(expect.arrayContaining([refreshed.data!.sessionId, other.sessionId]));
    expect((await api.DELETE('/v1/me/sessions/{id}', { params: { path: { id: other.sessionId } } })).response.status).toBe(204);

    const changed = await api.PUT('/v1/me/password', { body: { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD } });
    expect(changed.response.status).toBe(204);
    expect((await api.POST('/v1/auth/logout')).response.status).toBe(204);
    const after = await api.GET('/v1/me');
    expect(after.response.status).toBe(401);
    expect(after.error).toMatchObject({ status: 401 });
  });

  it('/v1 administrators: the user list with search and paging', async () => {
    const email = `${unique('sdkadmin')}@example.com`;
    const admin = await api.POST('/v1/auth/register', { body: { email, password: GOOD_PASSWORD } });
    await promoteToAdmin(t.db, admin.data!.id);
    const login = await api.POST('/v1/auth/login', { body: { login: email, password: GOOD_PASSWORD } });
    api.useToken(tokens(login.data).accessToken);

    const page = await api.GET('/v1/admin/users', { params: { query: { search: 'sdkadmin', page: 1, limit: 10 } } });
    expect(page.response.status).toBe(200);
    expect(page.data!.items.map((user) => user.email)).toContain(email);
  });

  it('/v1 with a second factor: TOTP enrolment, then a sign-in answered with a challenge and a code', async () => {
    const email = `${unique('sdkmfa')}@example.com`;
    await api.POST('/v1/auth/register', { body: { email, password: GOOD_PASSWORD } });
    api.useToken(tokens((await api.POST('/v1/auth/login', { body: { login: email, password: GOOD_PASSWORD } })).data).accessToken);
    const started = await api.POST('/v1/me/factors/totp', { body: {} });
    expect(started.data!.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const confirmed = await api.POST('/v1/me/factors/totp/confirm', { body: { code: totpCode(started.data!.secret) } });
    expect(confirmed.response.status).toBe(200);

    api.useToken(null);
    const challenged = await api.POST('/v1/auth/login', { body: { login: email, password: GOOD_PASSWORD } });
    const challenge = challenged.data!;
    if (!('mfaRequired' in challenge)) throw new Error('expected a second-factor challenge');
    expect(challenge.methods).toContain('totp');
    // The code of the next time step: the one just used to confirm is good once.
    const signedIn = await api.POST('/v1/auth/login/mfa', { body: { challengeId: challenge.challengeId, totp: totpCode(started.data!.secret, 1) } });
    expect(signedIn.response.status).toBe(200);
    api.useToken(signedIn.data!.accessToken);
    expect((await api.GET('/v1/me')).data!.email).toBe(email);
  });

  it('000 and 004 with a token from 001: profile, then a password change', async () => {
    const email = `${unique('sdk001')}@example.com`;
    expect((await api.POST('/auth/register', { body: { email, password: GOOD_PASSWORD } })).response.status).toBe(201);
    const login = await api.POST('/auth/login', { body: { email_or_name: email, password: GOOD_PASSWORD } });
    api.useToken(login.data!.data.token);

    const profile = await api.POST('/api/users/profile', { body: { name: 'Ivan' } });
    expect(profile.data).toMatchObject({ email, name: 'Ivan' });
    const user = await api.GET('/{userId}', { params: { path: { userId: profile.data!.id } } });
    expect(user.data!.status).toBe('success');
    const password = await api.PATCH('/me/password', { body: { password: GOOD_PASSWORD, newPassword: NEW_PASSWORD } });
    expect(password.response.status).toBe(200);
  });

  it('002: registration, token pair, refresh, the user', async () => {
    const email = `${unique('sdk002')}@example.com`;
    expect((await api.POST('/users/auth/registration', { body: { email, number: uniquePhone(), password: GOOD_PASSWORD } })).response.status).toBe(201);
    const pair = await api.POST('/users/auth/token', { body: { email, password: GOOD_PASSWORD } });
    const refreshed = await api.POST('/users/auth/token/refresh', { body: { refresh: pair.data!.refresh } });
    api.useToken(refreshed.data!.access);
    const user = await api.GET('/users/user');
    expect(user.data).toMatchObject({ email });
  });

  it('003: registration, sign-in, profile settings, logout', async () => {
    const username = unique('sdk003');
    const email = `${username}@example.com`;
    expect((await api.POST('/api/registration', { body: { username, email, pwd: GOOD_PASSWORD } })).data!.status).toBe('OK');
    const login = await api.POST('/api/login', { body: { username, pwd: GOOD_PASSWORD } });
    api.useToken(login.data!.data.token);
    const settings = await api.GET('/api/profile_settings');
    expect(settings.data!.status).toBe('OK');
    expect((await api.GET('/api/logout')).data!.status).toBe('OK');
  });
});
