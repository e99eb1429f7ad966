import { createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { ServerSecretsService } from './server-secrets.service';
import { SigningKeysService } from './signing-keys.service';
import { TokenService } from './token.service';

function serviceWithSecret(secret: Buffer): TokenService {
  const secrets = { refreshTokenSecret: () => secret } as ServerSecretsService;
  return new TokenService({} as SigningKeysService, secrets);
}

describe('TokenService refresh tokens', () => {
  const secret = randomBytes(32);
  const tokens = serviceWithSecret(secret);
  const sessionId = '3f1c2b7e-9d0a-4c5b-8e6f-0a1b2c3d4e5f';

  it('derives HMAC-SHA256(secret, session id and generation), base64url: 256 bits', () => {
    const token = tokens.refreshTokenFor(sessionId, 3);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(token).toBe(createHmac('sha256', secret).update(`refresh-token:${sessionId}:3`).digest('base64url'));
  });

  it('gives the same token for the same session and generation, and a different one otherwise', () => {
    expect(tokens.refreshTokenFor(sessionId, 1)).toBe(tokens.refreshTokenFor(sessionId, 1));
    expect(tokens.refreshTokenFor(sessionId, 1)).not.toBe(tokens.refreshTokenFor(sessionId, 2));
    expect(tokens.refreshTokenFor(sessionId, 1)).not.toBe(tokens.refreshTokenFor('0e8b1c6a-2f3d-4a5b-9c7d-1e2f3a4b5c6d', 1));
  });

  it('depends on the server secret: without it the token cannot be computed', () => {
    expect(serviceWithSecret(randomBytes(32)).refreshTokenFor(sessionId, 1)).not.toBe(tokens.refreshTokenFor(sessionId, 1));
  });

  it('derives the next token from the presented one (HMAC under the same secret), so a rotation and its grace retry give the same token', () => {
    const token0 = tokens.refreshTokenFor(sessionId, 0);
    const token1 = tokens.nextRefreshToken(token0);
    expect(token1).toBe(createHmac('sha256', secret).update(`refresh-token-next:${token0}`).digest('base64url'));
    expect(token1).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.nextRefreshToken(token0)).toBe(token1);
    expect(tokens.nextRefreshToken(token1)).not.toBe(token1);
    expect(serviceWithSecret(randomBytes(32)).nextRefreshToken(token0)).not.toBe(token1);
  });

  it('hashes with SHA-256 (what the database stores), never the token itself', () => {
    const token = tokens.refreshTokenFor(sessionId, 0);
    const hash = tokens.hashRefreshToken(token);
    expect(hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(hash.toString('utf8')).not.toContain(token);
  });
});

describe('TokenService access tokens', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = { signingKey: () => ({ privateKey, algorithm: 'ES256', kid: 'k1' }) } as unknown as SigningKeysService;
  const tokens = new TokenService(keys, { refreshTokenSecret: () => randomBytes(32) } as ServerSecretsService);
  const subject = { userId: 'u', role: 'user' as const, sessionId: 's', authTime: new Date() };
  const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

  afterEach(() => jest.useRealTimers());

  it('a session-long token signed just after a second boundary still lives the whole TTL (no one-second loss)', () => {
    const sessionStart = new Date('2030-01-01T00:00:10.999Z');
    const ttl = 2_592_000;
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:11.001Z') });
    const { token, expiresIn } = tokens.signAccessToken(subject, ttl, new Date(sessionStart.getTime() + ttl * 1000));
    const { iat, exp } = claims(token);
    expect(exp - iat).toBe(ttl);
    expect(expiresIn).toBe(ttl);
  });

  it('signs a compact JWS with kid that node:crypto verifies (ES256 as raw r||s)', () => {
    const { token } = tokens.signAccessToken(subject, 900);
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k1' });
    expect(claims(token)).toMatchObject({ sub: 'u', sid: 's', role: 'user', auth_time: expect.any(Number) });
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
    expect(
      verify(
        'sha256',
        Buffer.from(`${header}.${payload}`),
        { key: createPublicKey(privateKey), dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
  });

  it('never outlives the session by a whole second', () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00.000Z') });
    const { token } = tokens.signAccessToken(subject, 900, new Date('2030-01-01T00:01:00.200Z'));
    expect(claims(token).exp).toBe(Date.parse('2030-01-01T00:01:01.000Z') / 1000);
  });
});
