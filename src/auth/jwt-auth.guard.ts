import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AUTH_OPTIONAL, IS_PUBLIC, REQUIRED_ROLES } from '../common/auth.decorators';
import { DomainError } from '../common/domain-error';
import { markReadOnly, READ_ONLY, ReadOnlyMode } from '../common/read-your-writes';
import { UserRole } from '../users/user.entity';
import { AccessTokenVerifier } from './access-token.verifier';
import { AuthContext, SessionsService } from './sessions.service';
import { aalOf } from './token.service';

/** `Authorization: Bearer <jwt>` or `Authorization: Token <jwt>` (SPEC §5). */
const AUTHORIZATION = /^(?:Bearer|Token)\s+(\S+)\s*$/i;

export function accessTokenFromHeader(header: unknown): string | null {
  return typeof header === 'string' ? (AUTHORIZATION.exec(header)?.[1] ?? null) : null;
}

/** What the decorators say about one route, read once per route instead of per request. */
interface RouteAuth {
  isPublic: boolean;
  optional: boolean;
  roles: UserRole[] | undefined;
  readOnly: ReadOnlyMode | undefined;
}

interface GuardedRequest {
  headers: Record<string, unknown>;
  user?: AuthContext;
}

/**
 * The global guard: every route needs a valid access token unless marked `@Public()`.
 * Issue 13: no passport in between. The token is verified by AccessTokenVerifier (node:crypto by
 * `kid`, remembered until `exp`) and the session and user come from SessionsService.authenticate
 * (this instance's cache, invalidated by PostgreSQL notifications, else one prepared read).
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAuth>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: AccessTokenVerifier,
    private readonly sessions: SessionsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const route = this.routeOf(context);
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    if (route.readOnly) markReadOnly(request, route.readOnly);
    if (route.isPublic) return true;
    const header = request.headers.authorization;
    if (route.optional && header === undefined) return true;

    const token = accessTokenFromHeader(header);
    if (!token) throw new DomainError('Unauthenticated', 'an access token is required');
    const { claims, authTime } = await this.verifier.verify(token);
    const auth = await this.sessions.authenticate(claims.sid, claims.sub, authTime, aalOf(claims.acr));
    request.user = auth;
    if (route.roles?.length && !route.roles.includes(auth.user.role)) {
      throw new DomainError('Forbidden', 'this operation needs another role');
    }
    return true;
  }

  private routeOf(context: ExecutionContext): RouteAuth {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.routes.get(controller);
    if (!byHandler) this.routes.set(controller, (byHandler = new WeakMap()));
    let route = byHandler.get(handler);
    if (!route) {
      const read = <T>(key: string) => this.reflector.getAllAndOverride<T>(key, [handler, controller]);
      route = {
        isPublic: !!read(IS_PUBLIC),
        optional: !!read(AUTH_OPTIONAL),
        roles: read<UserRole[] | undefined>(REQUIRED_ROLES),
        readOnly: read<ReadOnlyMode | undefined>(READ_ONLY),
      };
      byHandler.set(handler, route);
    }
    return route;
  }
}
