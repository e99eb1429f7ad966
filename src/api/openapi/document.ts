import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { AUTH_OPTIONAL, IS_PUBLIC } from '../../common/auth.decorators';
import { MAY_ANSWER, WITHOUT_DATABASE } from '../../common/openapi.decorators';
import { SURFACE, SurfaceName } from '../../common/security-context';
import { errorResponse, SurfaceErrors } from '../error-responses';
import { SURFACE_ERRORS } from '../surfaces';
import { PROBLEMS } from '../v1/dto/problem.dto';
import { Route, routeMetadata, routesOf } from './routes';

/** Methods whose body the server reads (and refuses with 413 beyond 64 KiB); GET and HEAD bodies are ignored. */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);

/**
 * What Swagger's decorators leave out, derived from the code that decides it, for every operation
 * present and future:
 * - security from the same metadata the global JWT guard reads (`@Public`, `@OptionalAuth`);
 * - the errors every operation can answer whatever its handler does, in its surface's envelope:
 *   400 (RequestInputGuard: control characters, bad query encoding, a body that is not an object),
 *   401 (a token is accepted), 413 (a method with a body), 414 (a path parameter), 429 (a limiting
 *   guard, `@MayAnswer`), 500 (a fault of ours), 503 (the database, unless `@WithoutDatabase`).
 */
export function completeDocument(document: OpenAPIObject, app: INestApplication): OpenAPIObject {
  const documented = new Set<string>();
  for (const route of routesOf(app)) {
    const operation = document.paths[route.path]?.[route.method as 'get'] as OperationObject | undefined;
    if (!operation) continue; // excluded from the document (@ApiExcludeEndpoint)
    documented.add(`${route.method} ${route.path}`);
    operation.security = securityOf(route);
    addCrossCuttingErrors(route, operation);
  }
  for (const { model, additionalProperties } of [PROBLEMS, ...Object.values(SURFACE_ERRORS)]) {
    const schema = document.components?.schemas?.[model.name] as SchemaObject | undefined;
    if (schema && additionalProperties) schema.additionalProperties = additionalProperties;
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of Object.keys(item)) {
      if (!documented.has(`${method} ${path}`)) throw new Error(`OpenAPI: ${method.toUpperCase()} ${path} is documented but no route serves it`);
    }
  }
  return document;
}

/** Who may call: the metadata the global JwtAuthGuard reads, so the two cannot disagree. */
function securityOf(route: Route): Record<string, string[]>[] {
  if (routeMetadata<boolean>(route, IS_PUBLIC)) return [];
  if (routeMetadata<boolean>(route, AUTH_OPTIONAL)) return [{ bearer: [] }, {}];
  return [{ bearer: [] }];
}

function surfaceErrorsOf(route: Route): SurfaceErrors {
  const surface = Reflect.getMetadata(SURFACE, route.controller) as SurfaceName | undefined;
  return surface ? SURFACE_ERRORS[surface] : PROBLEMS;
}

function addCrossCuttingErrors(route: Route, operation: OperationObject): void {
  const statuses = new Set([400]);
  if (operation.security?.some((requirement) => 'bearer' in requirement)) statuses.add(401);
  if (BODY_METHODS.has(route.method)) statuses.add(413);
  if (route.path.includes('{')) statuses.add(414);
  for (const status of [...((Reflect.getMetadata(MAY_ANSWER, route.controller) as number[]) ?? []), ...((Reflect.getMetadata(MAY_ANSWER, route.handler) as number[]) ?? [])]) {
    statuses.add(status);
  }
  if (!routeMetadata<unknown[]>(route, WITHOUT_DATABASE)) statuses.add(503);
  statuses.add(500); // a fault of ours: logged, answered in the surface's envelope without detail
  const surface = surfaceErrorsOf(route);
  for (const status of [...statuses].sort()) operation.responses[status] ??= errorResponse(surface, status);
  for (const [status, response] of Object.entries(operation.responses)) {
    if (Number(status) >= 400 && response && !('$ref' in response) && !response.content) {
      throw new Error(`OpenAPI: ${route.method.toUpperCase()} ${route.path} documents ${status} without a body: use the surface's error decorator`);
    }
  }
}

