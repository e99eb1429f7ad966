import { createHash, createHmac, sign } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { UserRole } from '../users/user.entity';
import { ServerSecretsService } from './server-secrets.service';
import { SigningKeysService } from './signing-keys.service';

/** What an access token says (SPEC §5). */
export interface AccessClaims {
  sub: string;
  sid: string;
  role: UserRole;
  exp: number;
  iat: number;
  /** When the user signed in to this session (OIDC's `auth_time`, seconds): how fresh the proof is (SPEC §9 rule 4). */
  auth_time?: number;
  /** How the user proved who they are (RFC 8176 style): `pwd`, `otp`, `webauthn`, `recovery`, `app-password`. */
  amr?: string[];
  /** The authenticator assurance level of that proof: `aal1` or `aal2` (a second factor, or a passkey alone). */
  acr?: string;
}

/** Who an access token is for. */
export interface AccessSubject {
  userId: string;
  role: UserRole;
  sessionId: string;
  /** The session's sign-in (or step-up) time. */
  authTime: Date;
  amr?: string[];
  /** 1 or 2; absent: 1. */
  aal?: 1 | 2;
}

/** The `acr` claim of an assurance level, and back (a token without one is aal1). */
export const acrOf = (aal: 1 | 2): string => `aal${aal}`;
export const aalOf = (acr: unknown): 1 | 2 => (acr === 'aal2' ? 2 : 1);

export interface IssuedAccessToken {
  token: string;
  /** Seconds from now until `exp`. */
  expiresIn: number;
  expiresAt: Date;
}

/** The one token service: signs access JWTs and derives and hashes opaque refresh tokens. */
@Injectable()
export class TokenService {
  /** The encoded JOSE header per kid: the same for every token signed with that key. */
  private readonly headers = new Map<string, string>();

  constructor(
    private readonly keys: SigningKeysService,
    private readonly secrets: ServerSecretsService,
  ) {}

  /** An access token for `sessionId` that lives `ttlSeconds`, never past `notAfter` (the session's end). */
  signAccessToken(subject: AccessSubject, ttlSeconds: number, notAfter?: Date): IssuedAccessToken {
    const now = Math.floor(Date.now() / 1000);
    // Rounded up: a token signed a moment after its session started, across a second boundary, still
    // gets the whole TTL (at most a fraction of a second past the session, whose own end is checked anyway).
    const limit = notAfter ? Math.ceil(notAfter.getTime() / 1000) : Number.POSITIVE_INFINITY;
    const exp = Math.max(now + 1, Math.min(now + ttlSeconds, limit));
    const key = this.keys.signingKey();
    // A compact JWS signed with node:crypto directly (issue 13: jsonwebtoken's option checks cost more
    // than the signature). ES256 signatures are JOSE's raw r||s, not DER.
    let header = this.headers.get(key.kid);
    if (!header) this.headers.set(key.kid, (header = base64url(JSON.stringify({ alg: key.algorithm, typ: 'JWT', kid: key.kid }))));
    const claims: AccessClaims = {
      sub: subject.userId,
      sid: subject.sessionId,
      role: subject.role,
      iat: now,
      exp,
      auth_time: Math.floor(subject.authTime.getTime() / 1000),
      amr: subject.amr ?? ['pwd'],
      acr: acrOf(subject.aal ?? 1),
    };
    const signingInput = `${header}.${base64url(JSON.stringify(claims))}`;
    const signature = sign(
      'sha256',
      Buffer.from(signingInput),
      key.algorithm === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey,
    );
    const token = `${signingInput}.${signature.toString('base64url')}`;
    return { token, expiresIn: exp - now, expiresAt: new Date(exp * 1000) };
  }

  /**
   * A session's first refresh token (generation 0 at sign-in): HMAC-SHA256 under the server's
   * refresh-token secret of the session id and generation, base64url (256 bits). Each later token
   * is derived from its predecessor (`nextRefreshToken`). Derived rather than stored, so a retry
   * within the grace window can be answered with the very token the rotation issued (SPEC §5)
   * while the database holds only its hash. Unpredictable without the secret, which never leaves
   * the server.
   */
  refreshTokenFor(sessionId: string, generation: number): string {
    return createHmac('sha256', this.secrets.refreshTokenSecret()).update(`refresh-token:${sessionId}:${generation}`).digest('base64url');
  }

  /**
   * The token a rotation of `presented` issues: HMAC-SHA256 under the same secret of the presented
   * token itself, base64url. Computed before anything is read, so refresh's common case is one
   * statement (the new token's hash goes in with the rotation), and a retry of the same token within
   * the grace window re-derives the very same token (SPEC §5). Only the server can compute it, and
   * a token is accepted only when its hash is stored, so knowing an older token gives nothing.
   */
  nextRefreshToken(presented: string): string {
    return createHmac('sha256', this.secrets.refreshTokenSecret()).update(`refresh-token-next:${presented}`).digest('base64url');
  }

  /** Refresh tokens are high-entropy, so a fast hash is enough (no salt or argon2 needed). */
  hashRefreshToken(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
