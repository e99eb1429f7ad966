import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SurfaceName } from '../common/security-context';
import { MePasswordErrorFilter } from './legacy/me-password-004/me-password-error.filter';
import { ProfileRpcErrorFilter } from './legacy/profile-rpc-000/profile-rpc-error.filter';
import { UserAccountErrorFilter } from './legacy/user-account-003/user-account-error.filter';
import { UserServiceErrorFilter } from './legacy/user-service-001/user-service-error.filter';
import { UsersApiErrorFilter } from './legacy/users-002/users-api-error.filter';
import { SurfaceErrorFilter } from './surface-error.filter';
import { ProblemDetailsFilter } from './v1/problem-details.filter';

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const problemDetails = new ProblemDetailsFilter();

/**
 * Which surface owns a path (SPEC §7), first match wins. Inside a route its controller's own filter
 * answers; this table is for what fails before a route is reached (a URL that is not valid UTF-8,
 * a body Fastify itself refuses, an unknown path under a surface's prefix).
 */
const SURFACES: [RegExp, SurfaceName, SurfaceErrorFilter][] = [
  [/^\/v1(\/|$)/, 'v1', problemDetails],
  [/^\/api\/users(\/|$)/, '000', new ProfileRpcErrorFilter()],
  [/^\/(api(\/|$)|$)/, '003', new UserAccountErrorFilter()],
  [/^\/auth(\/|$)/, '001', new UserServiceErrorFilter()],
  [new RegExp(`^\\/${UUID}\\/?$`), '001', new UserServiceErrorFilter()],
  [/^\/users(\/|$)/, '002', new UsersApiErrorFilter()],
  [/^\/me\/password\/?$/, '004', new MePasswordErrorFilter()],
];

/** The error filter of the surface that owns `url`; problem+json for everything else. */
export function surfaceFilterFor(url: string): SurfaceErrorFilter {
  const path = url.split('?')[0];
  return SURFACES.find(([prefix]) => prefix.test(path))?.[2] ?? problemDetails;
}

/** The surface that owns `url`, or null (health, metrics, docs, JWKS). */
export function surfaceNameOf(url: string): SurfaceName | null {
  const path = url.split('?')[0];
  return SURFACES.find(([prefix]) => prefix.test(path))?.[1] ?? null;
}

/** The global filter: whatever no route filter caught is answered in the envelope of the surface its path belongs to. */
@Catch()
export class SurfaceByPathFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    surfaceFilterFor(request.url).answer(exception, request, host.switchToHttp().getResponse<FastifyReply>());
  }
}

/**
 * Fastify's `frameworkErrors`: errors the router raises before any route or hook runs (a path that
 * is not valid percent-encoded UTF-8, an over-long path parameter), in the surface's envelope.
 */
export function answerFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  surfaceFilterFor(request.url).answer(error, request, reply);
}
