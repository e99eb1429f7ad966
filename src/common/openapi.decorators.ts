import 'reflect-metadata';

/**
 * What the OpenAPI document needs to know about a route or a DTO beyond Swagger's own decorators,
 * read by api/openapi/document.ts. Each marks a fact the code already acts on, so the document
 * says it without a hand-written copy.
 */

export const MAY_ANSWER = 'openapi:may-answer';
export const WITHOUT_DATABASE = 'openapi:without-database';

function appendMetadata(key: string, values: unknown[]): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder = descriptor ? descriptor.value : target;
    Reflect.defineMetadata(key, [...((Reflect.getOwnMetadata(key, holder) as unknown[]) ?? []), ...values], holder);
  };
}

/**
 * Statuses a cross-cutting layer of the route can answer whatever its handler does (a limiting
 * guard's 429): documented in the envelope of the route's surface.
 */
export const MayAnswer = (...statuses: number[]) => appendMetadata(MAY_ANSWER, statuses);

/** The route never reads the database, so it cannot answer 503 (every other route documents it). */
export const WithoutDatabase = () => appendMetadata(WITHOUT_DATABASE, [true]);
