import { KeyObject, verify } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../common/domain-error';
import { JwtAlgorithm, SigningKeysService } from './signing-keys.service';
import { AccessClaims } from './token.service';

/** Verified tokens kept (oldest evicted first); about 1 KB each. */
export const VERIFIED_TOKEN_CACHE_LIMIT = 20_000;

/** Three base64url parts; the signature must not be empty (no `alg: none`). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Only our asymmetric algorithms: `none` and HMAC (a public key used as the secret) never verify. */
const ALGORITHMS: ReadonlySet<string> = new Set<JwtAlgorithm>(['ES256', 'RS256']);

/** What the guard needs from a verified access token. */
export interface VerifiedAccessToken {
  claims: AccessClaims;
  /** `exp` in ms: the token (and its cache entry) is dead from then on. */
  expiresAt: number;
  authTime: Date;
}

const invalid = () => new DomainError('InvalidToken', 'the access token is invalid or expired');

/**
 * The access-token check without a library in between (issue 13): the compact JWS is split by
 * hand, the key found by `kid` (an unknown kid is answered from SigningKeysService's memory, with
 * at most one reload per interval), the signature checked with `crypto.verify` (ES256 as JOSE's raw
 * r||s, RS256 as PKCS#1 v1.5), then `exp` and `nbf`. A token that passes is remembered until its
 * `exp`, so the next request with it skips the signature check; the cache can never outlive `exp`,
 * because every hit compares it with the clock.
 */
@Injectable()
export class AccessTokenVerifier {
  private readonly verified = new Map<string, VerifiedAccessToken>();

  constructor(private readonly keys: SigningKeysService) {}

  async verify(token: string, now = Date.now()): Promise<VerifiedAccessToken> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt > now) return cached;
      this.verified.delete(token);
      throw invalid();
    }
    if (token.length > 8192 || !COMPACT_JWS.test(token)) throw invalid();
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    const header = parsePart(token.slice(0, firstDot));
    if (!header || typeof header.alg !== 'string' || !ALGORITHMS.has(header.alg)) throw invalid();
    const key = this.keys.knownPublicKey(header.kid) ?? (await this.keys.publicKey(header.kid));
    if (!key || key.algorithm !== header.alg) throw invalid();
    if (!signatureMatches(key.algorithm, key.key, token.slice(0, lastDot), token.slice(lastDot + 1))) throw invalid();

    const claims = parsePart(token.slice(firstDot + 1, lastDot)) as (Partial<AccessClaims> & { nbf?: unknown }) | undefined;
    if (!claims || typeof claims.exp !== 'number' || !Number.isFinite(claims.exp) || typeof claims.sub !== 'string' || typeof claims.sid !== 'string')
      throw invalid();
    const expiresAt = claims.exp * 1000;
    if (expiresAt <= now) throw invalid();
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > now)) throw invalid();

    const result: VerifiedAccessToken = {
      claims: claims as AccessClaims,
      expiresAt,
      authTime: new Date(typeof claims.auth_time === 'number' ? claims.auth_time * 1000 : 0),
    };
    if (this.verified.size >= VERIFIED_TOKEN_CACHE_LIMIT) this.evictOldest(now);
    this.verified.set(token, result);
    return result;
  }

  get cachedTokens(): number {
    return this.verified.size;
  }

  /** Expired entries first (they lead the map: tokens are inserted roughly in `exp` order), else the oldest. */
  private evictOldest(now: number): void {
    let freed = false;
    for (const [token, entry] of this.verified) {
      const live = entry.expiresAt > now;
      if (live && freed) break; // expired entries made the room: every live one stays
      this.verified.delete(token);
      freed = true;
      if (live) break;
    }
  }
}

function parsePart(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function signatureMatches(algorithm: JwtAlgorithm, key: KeyObject, signingInput: string, signature: string): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64url');
    if (algorithm === 'ES256') return bytes.length === 64 && verify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, bytes);
    return verify('sha256', Buffer.from(signingInput), key, bytes);
  } catch {
    return false;
  }
}
