import { createHmac, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { DomainError } from '../common/domain-error';
import { AccessTokenVerifier, VERIFIED_TOKEN_CACHE_LIMIT } from './access-token.verifier';
import { SigningKeysService } from './signing-keys.service';

const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64url');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const NOW = 1_900_000_000_000;

function jwt(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject = ec): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  const signature = header.alg === 'RS256' ? sign('sha256', Buffer.from(input), key) : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

const claims = (overrides: Record<string, unknown> = {}) => ({ sub: 'u', sid: 's', role: 'user', iat: NOW / 1000, exp: NOW / 1000 + 600, ...overrides });

describe('AccessTokenVerifier', () => {
  const keys = new Map([
    ['ec', { key: createPublicKey(ec), algorithm: 'ES256' as const }],
    ['rsa', { key: createPublicKey(rsa), algorithm: 'RS256' as const }],
  ]);
  let reloads: number;
  let verifier: AccessTokenVerifier;

  beforeEach(() => {
    reloads = 0;
    const service = {
      knownPublicKey: (kid: unknown) => keys.get(kid as string),
      publicKey: async (kid: unknown) => {
        reloads++;
        return keys.get(kid as string);
      },
    } as unknown as SigningKeysService;
    verifier = new AccessTokenVerifier(service);
  });

  async function refused(token: string, now = NOW): Promise<void> {
    await expect(verifier.verify(token, now)).rejects.toEqual(expect.any(DomainError));
    await expect(verifier.verify(token, now)).rejects.toMatchObject({ kind: 'InvalidToken' });
  }

  it('accepts ES256 and RS256 tokens signed with a known key, by kid', async () => {
    await expect(verifier.verify(jwt({ alg: 'ES256', kid: 'ec' }, claims()), NOW)).resolves.toMatchObject({
      claims: { sub: 'u', sid: 's' },
      expiresAt: NOW + 600_000,
    });
    await expect(verifier.verify(jwt({ alg: 'RS256', kid: 'rsa' }, claims(), rsa), NOW)).resolves.toMatchObject({ claims: { sub: 'u' } });
  });

  it('refuses alg none, HMAC with the public key as secret, a mismatched alg, a foreign key, an unknown kid', async () => {
    const body = b64(JSON.stringify(claims()));
    await refused(`${b64(JSON.stringify({ alg: 'none', kid: 'ec' }))}.${body}.`);
    const pem = createPublicKey(ec).export({ type: 'spki', format: 'pem' }).toString();
    const hsInput = `${b64(JSON.stringify({ alg: 'HS256', kid: 'ec' }))}.${body}`;
    await refused(`${hsInput}.${createHmac('sha256', pem).update(hsInput).digest('base64url')}`);
    await refused(jwt({ alg: 'RS256', kid: 'ec' }, claims(), rsa));
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims(), other));
    await refused(jwt({ alg: 'ES256', kid: 'attacker' }, claims(), other));
    await refused(jwt({ alg: 'ES256' }, claims()));
  });

  it('refuses tampered payloads, missing or non-numeric exp, missing sub or sid, future nbf, garbage', async () => {
    const [header, , signature] = jwt({ alg: 'ES256', kid: 'ec' }, claims()).split('.');
    await refused(`${header}.${b64(JSON.stringify(claims({ role: 'administrator' })))}.${signature}`);
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims({ exp: undefined })));
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims({ exp: '9999999999' })));
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims({ sid: undefined })));
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims({ sub: 42 })));
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims({ nbf: NOW / 1000 + 60 })));
    for (const garbage of ['', 'a.b', 'a.b.c', 'not a jwt at all', `${header}.e30.`, `${header}.W10.${signature}`]) await refused(garbage);
  });

  it('refuses an expired token, and a cached one from its exp on (the cache never outlives exp)', async () => {
    await refused(jwt({ alg: 'ES256', kid: 'ec' }, claims({ exp: NOW / 1000 })));
    const token = jwt({ alg: 'ES256', kid: 'ec' }, claims({ exp: NOW / 1000 + 10 }));
    await verifier.verify(token, NOW);
    expect(verifier.cachedTokens).toBe(1);
    await expect(verifier.verify(token, NOW + 9_999)).resolves.toBeDefined();
    await refused(token, NOW + 10_000);
    expect(verifier.cachedTokens).toBe(0);
  });

  it('verifies a token once: later checks are answered from the cache', async () => {
    const token = jwt({ alg: 'ES256', kid: 'ec' }, claims());
    const first = await verifier.verify(token, NOW);
    expect(await verifier.verify(token, NOW + 1)).toBe(first);
  });

  it('asks the key service to reload only for a kid it does not know', async () => {
    await verifier.verify(jwt({ alg: 'ES256', kid: 'ec' }, claims()), NOW);
    expect(reloads).toBe(0);
    await refused(jwt({ alg: 'ES256', kid: 'unknown' }, claims()));
    expect(reloads).toBeGreaterThan(0);
  });

  it('holds at most VERIFIED_TOKEN_CACHE_LIMIT tokens however many valid ones come (expired ones leave first)', async () => {
    // The first half expires early: once past it, a full cache sheds those before any live one.
    const tokens: string[] = [];
    for (let i = 0; i < VERIFIED_TOKEN_CACHE_LIMIT; i++) {
      const exp = i < VERIFIED_TOKEN_CACHE_LIMIT / 2 ? NOW / 1000 + 60 : NOW / 1000 + 600;
      tokens.push(jwt({ alg: 'ES256', kid: 'ec' }, claims({ sub: `u${i}`, exp })));
      await verifier.verify(tokens[i], NOW);
    }
    expect(verifier.cachedTokens).toBe(VERIFIED_TOKEN_CACHE_LIMIT);
    const later = NOW + 120_000;
    const live = jwt({ alg: 'ES256', kid: 'ec' }, claims({ sub: 'u-live', exp: NOW / 1000 + 600 }));
    await verifier.verify(live, NOW);
    for (let i = 0; i < 100; i++) await verifier.verify(jwt({ alg: 'ES256', kid: 'ec' }, claims({ sub: `v${i}`, exp: NOW / 1000 + 600 })), later);
    expect(verifier.cachedTokens).toBeLessThanOrEqual(VERIFIED_TOKEN_CACHE_LIMIT);
    // The live tokens are all still there: only expired ones were evicted.
    const spy = jest.spyOn(keys, 'get');
    await verifier.verify(live, later);
    await verifier.verify(tokens[VERIFIED_TOKEN_CACHE_LIMIT / 2], later); // the oldest live one
    expect(spy).not.toHaveBeenCalled();
  }, 60_000);
});
