import { PipeTransform, RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';

/** A parameter of a handler bound to the request (`@Body()`, `@Query()`, `@Param('id', pipe)`). */
export interface RouteArgument {
  kind: 'body' | 'query' | 'param';
  /** The name given to the decorator (`@Param('id')` → `id`), if any. */
  name?: string;
  /** The parameter's declared type (a DTO class, or String/Object…). */
  type?: Type<unknown>;
  pipes: (Type<PipeTransform> | PipeTransform)[];
}

/** One route of the app, as Swagger documents it: `GET /v1/me/sessions/{id}`, and the code behind it. */
export interface Route {
  /** Lower-case, as in the document's path item (`get`, `post`…). */
  method: string;
  /** The OpenAPI path template (`/v1/me/sessions/{id}`). */
  path: string;
  controller: Type<unknown>;
  handler: (...args: unknown[]) => unknown;
  arguments: RouteArgument[];
}

const KINDS: Partial<Record<RouteParamtypes, RouteArgument['kind']>> = {
  [RouteParamtypes.BODY]: 'body',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.PARAM]: 'param',
};

const asList = (value: string | string[] | undefined): string[] => (Array.isArray(value) ? value : [value ?? '']);

/** `a`, `/b/` → `/a/b`; `:id` → `{id}`; the root is `/`. */
function templateOf(...parts: string[]): string {
  const joined = parts
    .flatMap((part) => part.split('/'))
    .filter(Boolean)
    .map((segment) => segment.replace(/^:(\w+).*$/, '{$1}'))
    .join('/');
  return `/${joined}`;
}

/** Every route of every controller of the app (what Swagger reads, joined with the code that serves it). */
export function routesOf(app: INestApplication): Route[] {
  const scanner = new MetadataScanner();
  const routes: Route[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller || !wrapper.instance) continue;
      const prototype = Object.getPrototypeOf(wrapper.instance) as Record<string, (...args: unknown[]) => unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        const methodPath = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (methodPath === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod].toLowerCase();
        const args = argumentsOf(controller, prototype, name);
        for (const controllerPath of asList(Reflect.getMetadata(PATH_METADATA, controller))) {
          for (const path of asList(methodPath)) routes.push({ method, path: templateOf(controllerPath, path), controller, handler, arguments: args });
        }
      }
    }
  }
  return routes;
}

function argumentsOf(controller: Type<unknown>, prototype: object, name: string): RouteArgument[] {
  const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
    string,
    { index: number; data?: unknown; pipes?: (Type<PipeTransform> | PipeTransform)[] }
  >;
  const types = (Reflect.getMetadata('design:paramtypes', prototype, name) ?? []) as Type<unknown>[];
  return Object.entries(metadata).flatMap(([key, { index, data, pipes }]) => {
    const kind = KINDS[Number(key.split(':')[0]) as RouteParamtypes];
    return kind ? [{ kind, name: typeof data === 'string' ? data : undefined, type: types[index], pipes: pipes ?? [] }] : [];
  });
}

/** The metadata of a route, the handler's own over its controller's (like Nest's `Reflector.getAllAndOverride`). */
export function routeMetadata<T>(route: Route, key: string): T | undefined {
  return (Reflect.getMetadata(key, route.handler) as T | undefined) ?? (Reflect.getMetadata(key, route.controller) as T | undefined);
}
