import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { UserRole } from '../users/user.entity';
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
}

/** Who an access token is for. */
export interface AccessSubject {
  userId: string;
  role: UserRole;
  sessionId: string;
  /** The session's sign-in time. */
  authTime: Date;
}

export interface IssuedAccessToken {
  token: string;
  /** Seconds from now until `exp`. */
  expiresIn: number;
  expiresAt: Date;
}

/** The one token service: signs access JWTs and makes and hashes opaque refresh tokens. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly keys: SigningKeysService,
  ) {}

  /** An access token for `sessionId` that lives `ttlSeconds`, never past `notAfter` (the session's end). */
  signAccessToken(subject: AccessSubject, ttlSeconds: number, notAfter?: Date): IssuedAccessToken {
    const now = Math.floor(Date.now() / 1000);
    const limit = notAfter ? Math.floor(notAfter.getTime() / 1000) : Number.POSITIVE_INFINITY;
    const exp = Math.max(now + 1, Math.min(now + ttlSeconds, limit));
    const key = this.keys.signingKey();
    const token = this.jwt.sign(
      { sub: subject.userId, sid: subject.sessionId, role: subject.role, iat: now, exp, auth_time: Math.floor(subject.authTime.getTime() / 1000) },
      { privateKey: key.privateKey as never, algorithm: key.algorithm, keyid: key.kid },
    );
    return { token, expiresIn: exp - now, expiresAt: new Date(exp * 1000) };
  }

  /** 256 random bits, base64url. */
  newRefreshToken(): string {
    return randomBytes(32).toString('base64url');
  }

  /** Refresh tokens are high-entropy, so a fast hash is enough (no salt or argon2 needed). */
  hashRefreshToken(token: string): Buffer {
    return createHash('sha256').update(token).digest();
  }
}
