import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../common/domain-error';
import type { SurfaceName } from '../common/security-context';
import { SurfaceErrors } from './error-responses';
import { ME_PASSWORD_ERRORS, MePasswordErrorFilter } from './legacy/me-password-004/me-password-error.filter';
import { PROFILE_RPC_ERRORS, ProfileRpcErrorFilter } from './legacy/profile-rpc-000/profile-rpc-error.filter';
import { USER_ACCOUNT_ERRORS, UserAccountErrorFilter } from './legacy/user-account-003/user-account-error.filter';
import { USER_SERVICE_ERRORS, UserServiceErrorFilter } from './legacy/user-service-001/user-service-error.filter';
import { USERS_API_ERRORS, UsersApiErrorFilter } from './legacy/users-002/users-api-error.filter';
import { SurfaceErrorFilter } from './surface-error.filter';
import { PROBLEMS } from './v1/dto/problem.dto';
import { ProblemDetailsFilter } from './v1/problem-details.filter';

/** Each surface's documented error envelope (the OpenAPI document adds the errors every operation can answer from these). */
export const SURFACE_ERRORS: Record<SurfaceName, SurfaceErrors> = {
  v1: PROBLEMS,
  '000': PROFILE_RPC_ERRORS,
  '001': USER_SERVICE_ERRORS,
  '002': USERS_API_ERRORS,
  '003': USER_ACCOUNT_ERRORS,
  '004': ME_PASSWORD_ERRORS,
};

const problemDetails = new ProblemDetailsFilter();

/**
 * Which surface owns a path (SPEC §7), first match wins. Inside a route its controller's own filter
 * answers; this table is for what fails before a route is reached (a URL that is not valid UTF-8,
 * a body Fastify itself refuses, an unknown path under a surface's prefix, a method the path does
 * not have). Any other single segment at the root is 001's `/{user_id}` (which only matches a UUID):
 * the document says so, so a non-UUID answers 001's 404.
 */
const SURFACES: [RegExp, SurfaceName | null, SurfaceErrorFilter][] = [
  [/^\/v1(\/|$)/, 'v1', problemDetails],
  [/^\/api\/users(\/|$)/, '000', new ProfileRpcErrorFilter()],
  [/^\/(api(\/|$)|$)/, '003', new UserAccountErrorFilter()],
  [/^\/auth(\/|$)/, '001', new UserServiceErrorFilter()],
  [/^\/users(\/|$)/, '002', new UsersApiErrorFilter()],
  [/^\/me\/password\/?$/, '004', new MePasswordErrorFilter()],
  // Swagger UI and its document (app.setup.ts), the metrics and the health checks belong to no surface.
  [/^\/(docs(-json)?|metrics|health)(\/|$)/, null, problemDetails],
  [/^\/[^/]+\/?$/, '001', new UserServiceErrorFilter()],
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
 * A known path asked with a method it does not have (TRACE, PROPFIND, GET on a POST-only path…):
 * 405 with `Allow` (RFC 9110 §15.5.6) in the path's surface envelope, instead of a 404.
 */
export function registerMethodNotAllowed(fastify: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  fastify.addHook('onRoute', (route) => {
    routes.push({ pattern: routePattern(route.url ?? route.path), methods: [route.method].flat() });
  });
  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?')[0];
    const allowed = new Set(routes.filter(({ pattern }) => pattern.test(path)).flatMap(({ methods }) => methods));
    if (!allowed.size || allowed.has(request.method)) return;
    if (allowed.has('GET')) allowed.add('HEAD');
    const list = [...allowed].sort().join(', ');
    void reply.header('Allow', list);
    surfaceFilterFor(request.url).answer(
      new DomainError('HttpError', `${request.method} is not allowed here; this path answers ${list}`, { status: 405 }),
      request,
      reply,
    );
    return reply;
  });
}

/** A Fastify route path (`/v1/me/sessions/:id`, `/:userId(^…$)`, `/docs/*`) as a RegExp over request paths (trailing slash optional). */
export function routePattern(url: string): RegExp {
  let source = '';
  for (let i = 0; i < url.length; i++) {
    const c = url[i];
    if (c === ':' && /\w/.test(url[i + 1] ?? '')) {
      while (/\w/.test(url[i + 1] ?? '')) i++;
      if (url[i + 1] === '(') {
        let depth = 0;
        let inner = '';
        for (i++; i < url.length; i++) {
          if (url[i] === '(') depth++;
          if (url[i] === ')' && --depth === 0) break;
          inner += url[i];
        }
        source += `(?:${inner.slice(1).replace(/^\^/, '').replace(/\$$/, '')})`;
      } else {
        source += '[^/]+';
      }
    } else if (c === '*') {
      source += '.*';
    } else {
      source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source.replace(/\/$/, '')}/?$`);
}

/**
 * Fastify's `frameworkErrors`: errors the router raises before any route or hook runs (a path that
 * is not valid percent-encoded UTF-8, an over-long path parameter), in the surface's envelope.
 */
export function answerFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  surfaceFilterFor(request.url).answer(error, request, reply);
}
