import { createHash, createHmac } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
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
  constructor(
    private readonly jwt: JwtService,
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
    const token = this.jwt.sign(
      {
        sub: subject.userId,
        sid: subject.sessionId,
        role: subject.role,
        iat: now,
        exp,
        auth_time: Math.floor(subject.authTime.getTime() / 1000),
        amr: subject.amr ?? ['pwd'],
        acr: acrOf(subject.aal ?? 1),
      },
      { privateKey: key.privateKey as never, algorithm: key.algorithm, keyid: key.kid },
    );
    return { token, expiresIn: exp - now, expiresAt: new Date(exp * 1000) };
  }

  /**
   * The refresh token of generation `generation` of a session: HMAC-SHA256 under the server's
   * refresh-token secret, base64url (256 bits). Derived rather than stored, so a retry within the
   * grace window can be answered with the very token the rotation issued (SPEC §5) while the
   * database holds only its hash. Unpredictable without the secret, which never leaves the server.
   */
  refreshTokenFor(sessionId: string, generation: number): string {
    return createHmac('sha256', this.secrets.refreshTokenSecret()).update(`refresh-token:${sessionId}:${generation}`).digest('base64url');
  }

  /** Refresh tokens are high-entropy, so a fast hash is enough (no salt or argon2 needed). */
  hashRefreshToken(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }
}
