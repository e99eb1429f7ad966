import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { DomainError } from '../common/domain-error';
import { AuthContext, SessionsService } from './sessions.service';
import { SigningKeysService } from './signing-keys.service';
import { AccessClaims, aalOf } from './token.service';

/** `Authorization: Bearer <jwt>` or `Authorization: Token <jwt>` (SPEC §5). */
const AUTHORIZATION = /^(?:Bearer|Token)\s+(\S+)\s*$/i;

export function accessTokenFromHeader(header: string | string[] | undefined): string | null {
  return typeof header === 'string' ? (AUTHORIZATION.exec(header)?.[1] ?? null) : null;
}

function kidOf(rawJwt: string): string | undefined {
  try {
    return JSON.parse(Buffer.from(rawJwt.split('.')[0], 'base64url').toString('utf8')).kid;
  } catch {
    return undefined;
  }
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    keys: SigningKeysService,
    private readonly sessions: SessionsService,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([
        (request: { headers: Record<string, string | string[] | undefined> }) => accessTokenFromHeader(request.headers.authorization),
      ]),
      // Only our asymmetric algorithms: `none` and HMAC tokens (signed with a public key) are refused.
      algorithms: ['ES256', 'RS256'],
      secretOrKeyProvider: (_request: unknown, rawJwt: string, done: (error: unknown, key?: string) => void) => {
        keys
          .publicKey(kidOf(rawJwt))
          .then((found) => (found ? done(null, found.key as never) : done(new DomainError('InvalidToken', 'the access token is not valid'))), done);
      },
    });
  }

  /** Signature and expiry are checked; now one read proves the session is still live. */
  validate(claims: AccessClaims): Promise<AuthContext> {
    if (typeof claims.sid !== 'string' || typeof claims.sub !== 'string') {
      throw new DomainError('InvalidToken', 'the access token is not valid');
    }
    const authTime = typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000) : new Date(0);
    return this.sessions.authenticate(claims.sid, claims.sub, authTime, aalOf(claims.acr));
  }
}
