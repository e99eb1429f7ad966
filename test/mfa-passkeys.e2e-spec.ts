import { DeliveryTestApp, PUBLIC_URL, startAppWithDelivery } from './support/delivery';
import { expectProblem } from './support/expect';
import { jwtPayload, markContactsVerified, registerAndLogin, SignedInUser } from './support/users';
import { SoftAuthenticator } from './support/webauthn';

/**
 * Issue 12, passkeys end to end with a software authenticator (test/support/webauthn.ts: ES256 keys
 * from node:crypto, `none` attestation, signed assertions): registration, sign-in with a passkey
 * alone (discoverable), a passkey as the second step, a cloned authenticator refused, and the
 * management routes. The relying party is PUBLIC_URL's host; the "browser" runs on its origin.
 */
describe('passkeys (/v1)', () => {
  let t: DeliveryTestApp;
  beforeAll(async () => (t = await startAppWithDelivery()));
  afterAll(() => t.close());

  async function owner(): Promise<SignedInUser> {
    const user = await registerAndLogin(t.http);
    await markContactsVerified(t.db, user.id);
    return user;
  }

  /** Registers a passkey of `authenticator` for the signed-in user. */
  async function register(user: SignedInUser, authenticator: SoftAuthenticator, name = 'Laptop', token = user.accessToken) {
    const options = await t.http.post('/v1/me/factors/passkeys/options', {}, { token });
    expect(options.status).toBe(200);
    const credential = authenticator.create(options.body.publicKey);
    return t.http.post('/v1/me/factors/passkeys', { challengeId: options.body.challengeId, name, credential }, { token });
  }

  /** An account with a registered passkey. */
  async function withPasskey(): Promise<SignedInUser & { authenticator: SoftAuthenticator; recoveryCodes: string[] }> {
    const user = await owner();
    const authenticator = new SoftAuthenticator(PUBLIC_URL);
    const res = await register(user, authenticator);
    expect(res.status).toBe(201);
    return { ...user, authenticator, recoveryCodes: res.body.recoveryCodes };
  }

  async function passkeySignIn(authenticator: SoftAuthenticator, assertion: Record<string, unknown> = {}) {
    const options = await t.http.post('/v1/auth/passkey/options', {});
    expect(options.status).toBe(200);
    return t.http.post('/v1/auth/passkey', { challengeId: options.body.challengeId, credential: authenticator.get(options.body.publicKey, assertion) });
  }

  describe('registration', () => {
    it('options for a discoverable credential of this relying party; the passkey is stored with its public key only; the first factor brings recovery codes and a notice', async () => {
      const user = await owner();
      const authenticator = new SoftAuthenticator(PUBLIC_URL);
      const options = await t.http.post('/v1/me/factors/passkeys/options', {}, { token: user.accessToken });
      expect(options.body).toMatchObject({
        challengeId: expect.any(String),
        expiresIn: 300,
        publicKey: {
          rp: { id: 'id.example.test', name: 'Identity service' },
          user: { id: Buffer.from(user.id.replace(/-/g, ''), 'hex').toString('base64url'), name: user.email },
          challenge: expect.any(String),
          attestation: 'none',
          authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
          excludeCredentials: [],
        },
      });
      const credential = authenticator.create(options.body.publicKey);
      const res = await t.http.post(
        '/v1/me/factors/passkeys',
        { challengeId: options.body.challengeId, name: 'Work laptop', credential },
        { token: user.accessToken },
      );
      expect(res.status).toBe(201);
      expect(res.body.factor).toMatchObject({ type: 'passkey', name: 'Work laptop', lastUsedAt: null });
      expect(res.body.recoveryCodes).toHaveLength(10);
      const [row] = await t.db.query(`SELECT subject, secret, counter, details FROM credentials WHERE user_id = $1 AND type = 'webauthn'`, [user.id]);
      expect(row).toMatchObject({ subject: credential.id, counter: '0', details: { transports: ['internal'] } });
      expect(row.secret).toEqual(expect.any(String)); // the COSE public key

      const notice = await t.mail.waitFor((m) => m.to === user.email && m.subject === 'A second factor was added to your account');
      expect(notice.text).toContain('the passkey "Work laptop"');
      // Registering again: the options exclude it (the browser would refuse), and a second passkey brings no new codes.
      const again = await t.http.post('/v1/me/factors/passkeys/options', { currentPassword: user.password }, { token: user.accessToken });
      expect(again.status).toBe(403); // the account has a factor now: aal2 needed
      expect(again.body.code).toBe('StepUpRequired');
    });

    it('refuses a response for another origin (400 PasskeyRejected), and a challenge works once', async () => {
      const user = await owner();
      const options = await t.http.post('/v1/me/factors/passkeys/options', {}, { token: user.accessToken });
      const phished = new SoftAuthenticator(PUBLIC_URL).create(options.body.publicKey, { origin: 'https://id.example.test.evil.test' });
      expectProblem(
        await t.http.post('/v1/me/factors/passkeys', { challengeId: options.body.challengeId, credential: phished }, { token: user.accessToken }),
        400,
        'PasskeyRejected',
      );
      const honest = new SoftAuthenticator(PUBLIC_URL).create(options.body.publicKey);
      expectProblem(
        await t.http.post('/v1/me/factors/passkeys', { challengeId: options.body.challengeId, credential: honest }, { token: user.accessToken }),
        401,
        'MfaChallengeInvalid',
      );
      expect((await t.http.get('/v1/me/factors', { token: user.accessToken })).body.factors).toEqual([]);
    });

    it('a registration challenge belongs to the session that asked for it', async () => {
      const user = await owner();
      const otherSession = (await t.http.post('/v1/auth/login', { login: user.email, password: user.password })).body.accessToken;
      const options = await t.http.post('/v1/me/factors/passkeys/options', {}, { token: user.accessToken });
      const credential = new SoftAuthenticator(PUBLIC_URL).create(options.body.publicKey);
      expectProblem(
        await t.http.post('/v1/me/factors/passkeys', { challengeId: options.body.challengeId, credential }, { token: otherSession }),
        401,
        'MfaChallengeInvalid',
      );
    });

    it('needs fresh proof (SPEC §9 rule 4)', async () => {
      const user = await owner();
      await t.db.query(`UPDATE sessions SET created_at = now() - interval '1 hour' WHERE id = $1`, [user.sessionId]);
      const stale = (await t.http.post('/v1/auth/refresh', { refreshToken: user.refreshToken })).body.accessToken;
      expectProblem(await t.http.post('/v1/me/factors/passkeys/options', {}, { token: stale }), 403, 'ReauthenticationRequired');
    });
  });

  describe('sign-in with a passkey alone (discoverable, no password)', () => {
    it('signs in at aal2 with amr ["webauthn"]; the counter and last use are recorded', async () => {
      const user = await withPasskey();
      const res = await passkeySignIn(user.authenticator);
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ id: user.id, email: user.email });
      expect(jwtPayload(res.body.accessToken)).toMatchObject({ sub: user.id, amr: ['webauthn'], acr: 'aal2' });
      const [row] = await t.db.query(`SELECT counter, last_used_at FROM credentials WHERE user_id = $1 AND type = 'webauthn'`, [user.id]);
      expect(row.counter).toBe('1');
      expect(row.last_used_at).not.toBeNull();
      // aal2: sensitive changes may follow at once.
      const aal2 = res.body.accessToken;
      expect((await t.http.post('/v1/me/app-passwords', { name: 'Old app' }, { token: aal2 })).status).toBe(201);
    });

    it('needs user verification: an assertion without it is refused, and the challenge is then over', async () => {
      const user = await withPasskey();
      const options = await t.http.post('/v1/auth/passkey/options', {});
      expect(options.body.publicKey).toMatchObject({ rpId: 'id.example.test', userVerification: 'required', allowCredentials: [] });
      const body = { challengeId: options.body.challengeId, credential: user.authenticator.get(options.body.publicKey, { userVerified: false }) };
      expectProblem(await t.http.post('/v1/auth/passkey', body), 401, 'WrongSecondFactor');
      const retry = { challengeId: options.body.challengeId, credential: user.authenticator.get(options.body.publicKey) };
      expectProblem(await t.http.post('/v1/auth/passkey', retry), 401, 'MfaChallengeInvalid');
    });

    it('refuses an unknown passkey, an assertion for another origin, and a replayed assertion', async () => {
      const user = await withPasskey();
      const stranger = new SoftAuthenticator(PUBLIC_URL);
      stranger.create({ challenge: 'AAAA', rp: { id: 'id.example.test', name: 'x' }, user: { id: 'AAAA', name: 'x', displayName: 'x' } });
      expectProblem(await passkeySignIn(stranger), 401, 'WrongSecondFactor');
      expectProblem(await passkeySignIn(user.authenticator, { origin: 'https://evil.test' }), 401, 'WrongSecondFactor');
      // The user handle (not covered by the signature) must be the passkey's own account.
      const handleOptions = await t.http.post('/v1/auth/passkey/options', {});
      const swapped = user.authenticator.get(handleOptions.body.publicKey);
      swapped.response.userHandle = Buffer.from('00000000000040008000000000000000', 'hex').toString('base64url');
      expectProblem(await t.http.post('/v1/auth/passkey', { challengeId: handleOptions.body.challengeId, credential: swapped }), 401, 'WrongSecondFactor');

      const options = await t.http.post('/v1/auth/passkey/options', {});
      const assertion = user.authenticator.get(options.body.publicKey);
      expect((await t.http.post('/v1/auth/passkey', { challengeId: options.body.challengeId, credential: assertion })).status).toBe(200);
      const fresh = await t.http.post('/v1/auth/passkey/options', {});
      expectProblem(await t.http.post('/v1/auth/passkey', { challengeId: fresh.body.challengeId, credential: assertion }), 401, 'WrongSecondFactor');
    });

    it('a cloned authenticator (its counter falls behind) is refused, and it is logged', async () => {
      const user = await withPasskey();
      const clone = user.authenticator.clone();
      expect((await passkeySignIn(user.authenticator)).status).toBe(200); // counter 1
      expect((await passkeySignIn(user.authenticator)).status).toBe(200); // counter 2
      expectProblem(await passkeySignIn(clone), 401, 'WrongSecondFactor'); // counter 1 again
      expect(t.logText()).toContain('possibly a cloned authenticator');
      // The original keeps working.
      expect((await passkeySignIn(user.authenticator)).status).toBe(200);
    });

    it('a clone racing the original with the same counter: exactly one gets in (the counter is checked and stored in one statement)', async () => {
      const user = await withPasskey();
      const clone = user.authenticator.clone();
      const [a, b] = [await t.http.post('/v1/auth/passkey/options', {}), await t.http.post('/v1/auth/passkey/options', {})];
      const results = await Promise.all([
        t.http.post('/v1/auth/passkey', { challengeId: a.body.challengeId, credential: user.authenticator.get(a.body.publicKey) }),
        t.http.post('/v1/auth/passkey', { challengeId: b.body.challengeId, credential: clone.get(b.body.publicKey) }),
      ]);
      expect(results.map((res) => res.status).sort()).toEqual([200, 401]);
    });

    it('a locked account is refused (429), a blocked one is 403', async () => {
      const user = await withPasskey();
      await t.db.query(`UPDATE credentials SET failed_count = 10, locked_until = now() + interval '1 minute' WHERE user_id = $1 AND type = 'password'`, [
        user.id,
      ]);
      expectProblem(await passkeySignIn(user.authenticator), 429, 'AccountLocked');
      await t.db.query(`UPDATE credentials SET failed_count = 0, locked_until = NULL WHERE user_id = $1 AND type = 'password'`, [user.id]);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [user.id]);
      expectProblem(await passkeySignIn(user.authenticator), 403, 'AccountBlocked');
    });
  });

  describe('a passkey as the second step', () => {
    it("the password gives a challenge with WebAuthn options for the account's passkeys; the assertion gives the pair", async () => {
      const user = await withPasskey();
      const challenge = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      expect(challenge.body).toMatchObject({ mfaRequired: true, methods: ['webauthn', 'recovery'] });
      expect(challenge.body.webauthn).toMatchObject({
        rpId: 'id.example.test',
        userVerification: 'preferred',
        allowCredentials: [{ id: user.authenticator.ids[0], type: 'public-key' }],
      });
      const res = await t.http.post('/v1/auth/login/mfa', {
        challengeId: challenge.body.challengeId,
        webauthn: user.authenticator.get(challenge.body.webauthn, { userVerified: false }),
      });
      expect(res.status).toBe(200);
      expect(jwtPayload(res.body.accessToken)).toMatchObject({ amr: ['pwd', 'webauthn'], acr: 'aal2' });
    });

    it("another account's passkey does not answer, and counts as a wrong try", async () => {
      const user = await withPasskey();
      const other = await withPasskey();
      const challenge = await t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      const foreign = other.authenticator.get({ ...challenge.body.webauthn, allowCredentials: [] });
      expectProblem(await t.http.post('/v1/auth/login/mfa', { challengeId: challenge.body.challengeId, webauthn: foreign }), 401, 'WrongSecondFactor');
      expect((await t.db.query(`SELECT failed_count FROM credentials WHERE user_id = $1 AND type = 'password'`, [user.id]))[0].failed_count).toBe(1);
    });

    it('a cloned authenticator is refused as a second step too', async () => {
      const user = await withPasskey();
      const clone = user.authenticator.clone();
      const login = () => t.http.post('/v1/auth/login', { login: user.email, password: user.password });
      const first = await login();
      expect(
        (await t.http.post('/v1/auth/login/mfa', { challengeId: first.body.challengeId, webauthn: user.authenticator.get(first.body.webauthn) })).status,
      ).toBe(200);
      const second = await login();
      expectProblem(
        await t.http.post('/v1/auth/login/mfa', { challengeId: second.body.challengeId, webauthn: clone.get(second.body.webauthn) }),
        401,
        'WrongSecondFactor',
      );
    });
  });

  describe('managing passkeys', () => {
    it('list (name, created, last used), rename, step up with the passkey, remove: the owner is told', async () => {
      const user = await withPasskey();
      const listed = await t.http.get('/v1/me/factors', { token: user.accessToken });
      expect(listed.body).toMatchObject({
        enabled: true,
        recoveryCodesLeft: 10,
        factors: [{ type: 'passkey', name: 'Laptop', createdAt: expect.any(String), lastUsedAt: null }],
      });
      const id = listed.body.factors[0].id;
      expect((await t.http.patch(`/v1/me/factors/${id}`, { name: 'Old laptop' }, { token: user.accessToken })).body).toMatchObject({ id, name: 'Old laptop' });

      const challenge = await t.http.post('/v1/me/step-up', {}, { token: user.accessToken });
      expect(challenge.body.methods).toEqual(['webauthn', 'recovery']);
      const stepped = await t.http.post(
        '/v1/me/step-up/verify',
        { challengeId: challenge.body.challengeId, webauthn: user.authenticator.get(challenge.body.webauthn) },
        { token: user.accessToken },
      );
      expect(stepped.status).toBe(200);
      expect(jwtPayload(stepped.body.accessToken)).toMatchObject({ amr: ['pwd', 'webauthn'], acr: 'aal2' });
      expect((await t.http.get('/v1/me/factors', { token: user.accessToken })).body.factors[0].lastUsedAt).toEqual(expect.any(String));

      expect((await t.http.delete(`/v1/me/factors/${id}`, {}, { token: stepped.body.accessToken })).status).toBe(204);
      const notice = await t.mail.waitFor((m) => m.to === user.email && m.subject === 'A second factor was removed from your account');
      expect(notice.text).toContain('the passkey "Old laptop"');
      expectProblem(await passkeySignIn(user.authenticator), 401, 'WrongSecondFactor');
    });

    it("another user's factor id is 404", async () => {
      const user = await withPasskey();
      const other = await withPasskey();
      const id = (await t.http.get('/v1/me/factors', { token: other.accessToken })).body.factors[0].id;
      expectProblem(await t.http.patch(`/v1/me/factors/${id}`, { name: 'mine' }, { token: user.accessToken }), 404, 'NotFound');
    });
  });
});
