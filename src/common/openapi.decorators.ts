import 'reflect-metadata';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { AppConfig } from '../config/app-config';

/**
 * What the OpenAPI document needs to know about a route or a DTO beyond Swagger's own decorators,
 * read by api/openapi/document.ts. Each marks a fact the code already acts on, so the document
 * says it without a hand-written copy.
 */

export const MAY_ANSWER = 'openapi:may-answer';
export const WITHOUT_DATABASE = 'openapi:without-database';
export const BODY_ALTERNATIVES = 'openapi:body-alternatives';

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

export interface BodyAlternatives {
  /** `anyOf`: at least one group complete; `oneOf`: exactly one shape (the other shapes' fields absent). */
  kind: 'anyOf' | 'oneOf';
  groups: { title?: string; required: string[] }[];
}

/**
 * The body must carry every field of at least one group ("e-mail, username or phone"), documented
 * as `anyOf` of `required` lists. Declares the rule a DTO's `ValidateIf` conditions (or the service)
 * enforce: a property whose validation depends on its siblings must be named here, or the document
 * refuses to build.
 */
export const AnyOfRequired =
  (...groups: string[][]): ClassDecorator =>
  (target) =>
    Reflect.defineMetadata(BODY_ALTERNATIVES, { kind: 'anyOf', groups: groups.map((required) => ({ required })) } satisfies BodyAlternatives, target);

/**
 * The body is exactly one of these shapes (title → its fields, all required), documented as
 * `oneOf`; a shape excludes the fields that only other shapes have.
 */
export const OneOfShapes =
  (shapes: Record<string, string[]>): ClassDecorator =>
  (target) =>
    Reflect.defineMetadata(
      BODY_ALTERNATIVES,
      { kind: 'oneOf', groups: Object.entries(shapes).map(([title, required]) => ({ title, required })) } satisfies BodyAlternatives,
      target,
    );

export const SERVICE_RULE = 'openapi:service-rule';
/** The schema of a rule a domain service applies, from the constants the service itself uses (the config for limits it reads). */
export type ServiceRuleSchema = SchemaObject | ((config: AppConfig) => SchemaObject);

/**
 * The field is also checked by a domain service after validation (the username pattern, the phone
 * form, the password policy): the document adds that rule to what the validators say. Pass the
 * rule the service exports (`USERNAME_RULE`, `PHONE_RULE`, `NEW_PASSWORD_RULE`).
 */
export const CheckedByService =
  (rule: ServiceRuleSchema): PropertyDecorator =>
  (target, key) =>
    Reflect.defineMetadata(SERVICE_RULE, rule, target, key);
