import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AUTH_OPTIONAL, IS_PUBLIC, REQUIRED_ROLES } from '../common/auth.decorators';
import { DomainError } from '../common/domain-error';
import { UserRole } from '../users/user.entity';
import { AuthContext } from './sessions.service';

/** The global guard: every route needs a valid access token unless marked `@Public()`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const flag = (key: string) => this.reflector.getAllAndOverride<boolean>(key, [context.getHandler(), context.getClass()]);
    if (flag(IS_PUBLIC)) return true;
    const request = context.switchToHttp().getRequest<{ headers: Record<string, unknown>; user?: AuthContext }>();
    if (flag(AUTH_OPTIONAL) && request.headers.authorization === undefined) return true;

    await super.canActivate(context);
    const roles = this.reflector.getAllAndOverride<UserRole[] | undefined>(REQUIRED_ROLES, [context.getHandler(), context.getClass()]);
    if (roles?.length && !roles.includes(request.user!.user.role)) {
      throw new DomainError('Forbidden', 'this operation needs another role');
    }
    return true;
  }

  override handleRequest<T>(error: unknown, auth: T, info: unknown): T {
    if (error) throw error;
    if (!auth) {
      const sentNoToken = info instanceof Error && info.message === 'No auth token';
      throw sentNoToken
        ? new DomainError('Unauthenticated', 'an access token is required')
        : new DomainError('InvalidToken', 'the access token is invalid or expired');
    }
    return auth;
  }
}
