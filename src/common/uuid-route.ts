import { RouteConfig } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import type { FastifyInstance } from 'fastify';
import { UUID_PATTERN } from './identifiers';

const UUID_PARAMS = 'uuidParams';

/**
 * The route matches only when these path parameters are UUIDs; any other path falls through to
 * other routes or the 404 handler. For routes at the root (`/{user_id}`) that must not swallow
 * `/favicon.ico` and the like. (Swagger cannot read a regex in the path, hence route config.)
 */
export const UuidParams = (...names: string[]) => RouteConfig({ [UUID_PARAMS]: names });

/** The path parameters `UuidParams` constrains on a handler (the OpenAPI document says `format: uuid`). */
export function uuidParamsOf(handler: Function): string[] {
  return ((Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as Record<string, unknown> | undefined)?.[UUID_PARAMS] as string[] | undefined) ?? [];
}

/** Turns `UuidParams` into Fastify's regex route parameters; call before the routes are registered. */
export function registerUuidParamRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const names = (route.config as Record<string, unknown> | undefined)?.[UUID_PARAMS] as string[] | undefined;
    for (const name of names ?? []) {
      route.url = route.url.replace(`:${name}`, `:${name}(^${UUID_PATTERN}$)`);
      route.path = route.url;
    }
  });
}
