import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { startApp, TestApp } from './support/app';
import { HttpResponse } from './support/http';
import { jwtPayload, registerAndLogin, SignedInUser } from './support/users';
import { expectProblem } from './support/expect';

/** The access-token check (SPEC §5): schemes, forgeries, expiry, blocked users, several instances. */

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

function jwtHeader(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));
}

/** A JWT signed ES256 (raw r||s signature, as JOSE wants) with `key`. */
function signEs256(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function signHs256(header: Record<string, unknown>, claims: Record<string, unknown>, secret: string): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function expectMe(res: HttpResponse, user: SignedInUser): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status: 200, body: { id: user.id } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('/v1 access-token check', () => {
  let t: TestApp;
  beforeAll(async () => (t = await startApp()));
  afterAll(() => t.close());

  const now = () => Math.floor(Date.now() / 1000);

  /** Real-looking claims for a live session of `user`. */
  const claimsOf = (user: SignedInUser, overrides: Record<string, unknown> = {}) => ({
    sub: user.id,
    sid: user.sessionId,
    role: 'user',
    iat: now(),
    exp: now() + 600,
    ...overrides,
  });

  /** The key the app signs with, read from table signing_keys by the kid of a token it issued. */
  async function realSigningKey(user: SignedInUser): Promise<{ kid: string; privateKey: KeyObject }> {
    const { kid } = jwtHeader(user.accessToken);
    const rows: { private_key_pem: string }[] = await t.db.query('SELECT private_key_pem FROM signing_keys WHERE kid = $1', [kid]);
    expect(rows).toHaveLength(1);
    return { kid, privateKey: createPrivateKey(rows[0].private_key_pem) };
  }

  describe('Authorization header schemes', () => {
    it('accepts `Authorization: Token <jwt>` like Bearer', async () => {
      const user = await registerAndLogin(t.http);
      expectMe(await t.http.get('/v1/me', { token: user.accessToken, scheme: 'Token' }), user);
      expectMe(await t.http.get('/v1/me', { token: user.accessToken, scheme: 'Bearer' }), user);
    });

    it('accepts the scheme in any case ("bearer", "TOKEN")', async () => {
      const user = await registerAndLogin(t.http);
      expectMe(await t.http.get('/v1/me', { headers: { authorization: `bearer ${user.accessToken}` } }), user);
      expectMe(await t.http.get('/v1/me', { headers: { authorization: `TOKEN ${user.accessToken}` } }), user);
    });

    it('401 Unauthenticated without an Authorization header', async () => {
      const res = await t.http.get('/v1/me');
      expectProblem(res, 401, 'Unauthenticated');
      expect(res.body.instance).toBe('/v1/me');
    });

    it('401 Unauthenticated for another scheme ("Basic xyz"): no access token was sent', async () => {
      expectProblem(await t.http.get('/v1/me', { headers: { authorization: 'Basic xyz' } }), 401, 'Unauthenticated');
    });

    it('401 InvalidToken for a bearer value that is not a JWT', async () => {
      expectProblem(await t.http.get('/v1/me', { token: 'not.a.jwt' }), 401, 'InvalidToken');
    });
  });

  describe('forged tokens', () => {
    it('control: a token forged with the REAL key and a valid exp is accepted (the forging helper is right)', async () => {
      const user = await registerAndLogin(t.http);
      const { kid, privateKey } = await realSigningKey(user);
      const token = signEs256({ alg: 'ES256', typ: 'JWT', kid }, claimsOf(user), privateKey);
      expectMe(await t.http.get('/v1/me', { token }), user);
    });

    it('401 for an expired token signed with the real key', async () => {
      const user = await registerAndLogin(t.http);
      const { kid, privateKey } = await realSigningKey(user);
      const token = signEs256({ alg: 'ES256', typ: 'JWT', kid }, claimsOf(user, { iat: now() - 1000, exp: now() - 60 }), privateKey);
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
    });

    it('401 for alg "none" with the real kid and an empty signature', async () => {
      const user = await registerAndLogin(t.http);
      const { kid } = jwtHeader(user.accessToken);
      const token = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid }))}.${b64url(JSON.stringify(claimsOf(user)))}.`;
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
    });

    it('401 for a token signed with another ES256 key under the real kid', async () => {
      const user = await registerAndLogin(t.http);
      const { kid } = jwtHeader(user.accessToken);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = signEs256({ alg: 'ES256', typ: 'JWT', kid }, claimsOf(user), privateKey);
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
    });

    it('401 for a token signed with another ES256 key under an unknown kid', async () => {
      const user = await registerAndLogin(t.http);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const token = signEs256({ alg: 'ES256', typ: 'JWT', kid: 'attacker-key-1' }, claimsOf(user), privateKey);
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
    });

    it('401 for a token without a kid, signed with the real key', async () => {
      const user = await registerAndLogin(t.http);
      const { privateKey } = await realSigningKey(user);
      const token = signEs256({ alg: 'ES256', typ: 'JWT' }, claimsOf(user), privateKey);
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
    });

    it('401 for HS256 signed with the public key PEM as the HMAC secret (key confusion)', async () => {
      const user = await registerAndLogin(t.http);
      const { kid } = jwtHeader(user.accessToken);
      const jwks = await t.http.get('/.well-known/jwks.json');
      const jwk = jwks.body.keys.find((key: { kid: string }) => key.kid === kid);
      const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
      for (const secret of [
        publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        publicKey.export({ type: 'spki', format: 'pem' }).toString().trim(),
      ]) {
        const token = signHs256({ alg: 'HS256', typ: 'JWT', kid }, claimsOf(user), secret);
        expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
      }
    });

    it('401 for a tampered payload (role changed to administrator, signature kept)', async () => {
      const user = await registerAndLogin(t.http);
      const [header, , signature] = user.accessToken.split('.');
      const claims = { ...jwtPayload(user.accessToken), role: 'administrator' };
      const token = `${header}.${b64url(JSON.stringify(claims))}.${signature}`;
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'InvalidToken');
      expectProblem(await t.http.get('/v1/admin/users', { token }), 401, 'InvalidToken');
    });

    it('401 for a real-key token whose sid belongs to another user', async () => {
      const victim = await registerAndLogin(t.http);
      const attacker = await registerAndLogin(t.http);
      const { kid, privateKey } = await realSigningKey(attacker);
      const token = signEs256({ alg: 'ES256', typ: 'JWT', kid }, claimsOf(attacker, { sid: victim.sessionId }), privateKey);
      expectProblem(await t.http.get('/v1/me', { token }), 401, 'SessionRevoked');
    });
  });

  describe('account status', () => {
    it('403 AccountBlocked for a blocked user with a valid token', async () => {
      const user = await registerAndLogin(t.http);
      expectMe(await t.http.get('/v1/me', { token: user.accessToken }), user);
      await t.db.query(`UPDATE users SET status = 'blocked' WHERE id = $1`, [user.id]);
      expectProblem(await t.http.get('/v1/me', { token: user.accessToken }), 403, 'AccountBlocked');
    });
  });

  describe('two instances on one database', () => {
    let b: TestApp;
    beforeAll(async () => (b = await startApp()));
    afterAll(() => b.close());

    it('a token issued by instance A is accepted by instance B', async () => {
      const user = await registerAndLogin(t.http);
      expectMe(await b.http.get('/v1/me', { token: user.accessToken }), user);
    });

    it('both instances sign with the same key', async () => {
      const fromA = await registerAndLogin(t.http);
      const fromB = await registerAndLogin(b.http);
      expect(jwtHeader(fromB.accessToken).kid).toBe(jwtHeader(fromA.accessToken).kid);
      expectMe(await t.http.get('/v1/me', { token: fromB.accessToken }), fromB);
    });

    it('logout on A: B rejects the token within 100 ms (B hears of it through PostgreSQL, issue 13)', async () => {
      const user = await registerAndLogin(t.http);
      expectMe(await b.http.get('/v1/me', { token: user.accessToken }), user);
      expect((await t.http.post('/v1/auth/logout', undefined, { token: user.accessToken })).status).toBe(204);
      const deadline = performance.now() + 100;
      let res = await b.http.get('/v1/me', { token: user.accessToken });
      while (res.status === 200 && performance.now() < deadline) res = await b.http.get('/v1/me', { token: user.accessToken });
      expectProblem(res, 401, 'SessionRevoked');
    });
  });
});
