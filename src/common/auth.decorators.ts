import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { UserRole } from '../users/user.entity';

export const IS_PUBLIC = 'auth:public';
export const AUTH_OPTIONAL = 'auth:optional';
export const REQUIRED_ROLES = 'auth:roles';

/** Opens a route to anonymous callers (the global guard denies by default). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/**
 * Anonymous callers pass; a caller who sends credentials must send valid ones. (The OpenAPI
 * document reads these marks, like the global guard: `security: [{bearer: []}, {}]` here.)
 */
export const OptionalAuth = () => SetMetadata(AUTH_OPTIONAL, true);

/** Requires a valid access token (and one of `roles`, when given); every route without `@Public()` does. */
export const Authenticated = (...roles: UserRole[]) => applyDecorators(...(roles.length ? [SetMetadata(REQUIRED_ROLES, roles)] : []));

/** The `AuthContext` ({ user, sessionId }) the guard attached, or undefined on an anonymous request. */
export const CurrentAuth = createParamDecorator((_: unknown, context: ExecutionContext) => context.switchToHttp().getRequest().user);
