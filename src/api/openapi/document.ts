import { ParseUUIDPipe } from '@nestjs/common';
import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { OperationObject, ParameterObject, ReferenceObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import { AUTH_OPTIONAL, IS_PUBLIC } from '../../common/auth.decorators';
import { BODY_ALTERNATIVES, BodyAlternatives, MAY_ANSWER, WITHOUT_DATABASE } from '../../common/openapi.decorators';
import { SURFACE, SurfaceName } from '../../common/security-context';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { uuidParamsOf } from '../../common/uuid-route';
import { errorResponse, SurfaceErrors } from '../error-responses';
import { SURFACE_ERRORS } from '../surfaces';
import { PROBLEMS } from '../v1/dto/problem.dto';
import { Route, routeMetadata, routesOf } from './routes';
import { PropertyRule, validationRulesOf } from './validation-schema';

/** Methods whose body the server reads (and refuses with 413 beyond 64 KiB); GET and HEAD bodies are ignored. */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);
/** Fastify's default `maxParamLength`: a longer path segment is answered 414. */
const DEFAULT_MAX_PARAM_LENGTH = 100;

/**
 * What Swagger's decorators leave out, derived from the code that decides it, for every operation
 * present and future:
 * - request bodies and query parameters: each constraint of the DTO's class-validator decorators
 *   (validation-schema.ts), `required`, `nullable`, and the alternatives a DTO declares;
 * - path parameters: `format: uuid` where a UUID pipe or route constraint checks it, the router's
 *   length limit;
 * - security from the same metadata the global JWT guard reads (`@Public`, `@OptionalAuth`);
 * - the errors every operation can answer whatever its handler does, in its surface's envelope:
 *   400 (RequestInputGuard: control characters, bad query encoding, a body that is not an object),
 *   401 (a token is accepted), 413 (a method with a body), 414 (a path parameter), 429 (a limiting
 *   guard, `@MayAnswer`), 500 (a fault of ours), 503 (the database, unless `@WithoutDatabase`).
 */
export function completeDocument(document: OpenAPIObject, app: INestApplication): OpenAPIObject {
  const maxParamLength =
    (app.getHttpAdapter().getInstance() as { initialConfig?: { maxParamLength?: number } }).initialConfig?.maxParamLength ?? DEFAULT_MAX_PARAM_LENGTH;
  const documented = new Set<string>();
  const schemas = new RequestSchemas(document, app.get<AppConfig>(APP_CONFIG));
  for (const route of routesOf(app)) {
    const operation = document.paths[route.path]?.[route.method as 'get'] as OperationObject | undefined;
    if (!operation) continue; // excluded from the document (@ApiExcludeEndpoint)
    documented.add(`${route.method} ${route.path}`);
    schemas.describe(route, operation, maxParamLength);
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
  for (const status of [
    ...((Reflect.getMetadata(MAY_ANSWER, route.controller) as number[]) ?? []),
    ...((Reflect.getMetadata(MAY_ANSWER, route.handler) as number[]) ?? []),
  ]) {
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

const OWNED_KEYS = [
  'type',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'enum',
  'oneOf',
  'anyOf',
  'items',
  'nullable',
] as const;

/** A property's documented schema with what its validators enforce in place of Swagger's guesses (description and example stay). */
function withRule(documented: SchemaObject | ReferenceObject | undefined, rule: PropertyRule, nullable = rule.nullable): SchemaObject {
  if (documented && '$ref' in documented) return documented as SchemaObject; // a nested DTO: described by its own schema
  const kept: SchemaObject = { ...documented };
  if (rule.schema.type || rule.schema.anyOf) for (const key of OWNED_KEYS) delete kept[key];
  const schema: SchemaObject = { ...kept, ...structuredClone(rule.schema) };
  if (nullable) markNullable(schema);
  return schema;
}

function markNullable(schema: SchemaObject): void {
  if (schema.anyOf) {
    for (const branch of schema.anyOf as SchemaObject[]) if (branch.type) markNullable(branch);
    return;
  }
  schema.nullable = true;
  // OpenAPI 3.0: `nullable` needs a `type` beside it; a nested DTO (`allOf: [$ref]`) is an object.
  if (!schema.type && schema.allOf) schema.type = 'object';
  if (schema.enum && !schema.enum.includes(null)) schema.enum = [...schema.enum, null];
}

/** The request side: body schemas (components), query and path parameters, from the DTOs and pipes that check them. */
class RequestSchemas {
  private readonly done = new Set<string>();
  private readonly validatedClasses = new Map<string, Function>();

  constructor(
    private readonly document: OpenAPIObject,
    private readonly config: AppConfig,
  ) {
    const storage = getMetadataStorage() as unknown as { validationMetadatas: Map<Function | string, unknown> };
    for (const target of storage.validationMetadatas.keys()) if (typeof target === 'function') this.validatedClasses.set(target.name, target);
  }

  describe(route: Route, operation: OperationObject, maxParamLength: number): void {
    const content = operation.requestBody && !('$ref' in operation.requestBody) ? operation.requestBody.content['application/json'] : undefined;
    const reference = content?.schema && '$ref' in content.schema ? content.schema.$ref : undefined;
    if (reference && operation.requestBody && !('$ref' in operation.requestBody)) {
      const name = reference.split('/').pop()!;
      const schema = this.describeComponent(name);
      operation.requestBody.required = Boolean(schema?.required?.length || schema?.anyOf || schema?.oneOf);
    }
    const parameters = (operation.parameters ?? []) as ParameterObject[];
    for (const argument of route.arguments) {
      if (argument.kind === 'query' && argument.name === undefined && argument.type && this.validatedClasses.get(argument.type.name) === argument.type) {
        for (const [name, rule] of validationRulesOf(argument.type, this.config)) {
          let parameter = parameters.find((candidate) => candidate.in === 'query' && candidate.name === name);
          if (!parameter) parameters.push((parameter = { name, in: 'query' }));
          parameter.schema = withRule(parameter.schema, rule, false);
          parameter.required = rule.required;
        }
      }
    }
    // A query value arrives as text: a parameter read without a DTO (`@Query('token') token: unknown`) is a string.
    for (const parameter of parameters.filter((candidate) => candidate.in === 'query')) {
      const schema = (parameter.schema ?? {}) as SchemaObject;
      if (!schema.type && !schema.anyOf && !schema.oneOf && !schema.enum && !('$ref' in schema)) parameter.schema = { ...schema, type: 'string' };
    }
    const uuids = new Set([
      ...uuidParamsOf(route.handler),
      ...route.arguments.filter((argument) => argument.kind === 'param' && argument.pipes.some(isUuidPipe)).map((argument) => argument.name),
    ]);
    for (const parameter of parameters.filter((candidate) => candidate.in === 'path')) {
      const schema = (parameter.schema ?? {}) as SchemaObject;
      parameter.schema = uuids.has(parameter.name) ? { ...schema, type: 'string', format: 'uuid' } : { ...schema, type: 'string', maxLength: maxParamLength };
    }
    operation.parameters = parameters;
  }

  /** A request body's component schema (and the components it refers to) with its DTO's rules. */
  private describeComponent(name: string): SchemaObject | undefined {
    const schema = this.document.components?.schemas?.[name] as SchemaObject | undefined;
    const dto = this.validatedClasses.get(name);
    if (!schema || !dto || this.done.has(name)) return schema;
    this.done.add(name);
    const rules = validationRulesOf(dto, this.config);
    const alternatives = Reflect.getMetadata(BODY_ALTERNATIVES, dto) as BodyAlternatives | undefined;
    const alternativeFields = new Set(alternatives?.groups.flatMap((group) => group.required));
    const properties = (schema.properties ??= {});
    for (const [property, rule] of rules) {
      if (rule.dependsOnSiblings && !alternativeFields.has(property)) {
        throw new Error(
          `OpenAPI: whether ${name}.${property} is validated depends on other fields: declare the alternatives with @AnyOfRequired or @OneOfShapes`,
        );
      }
      properties[property] = withRule(properties[property], rule);
    }
    for (const property of Object.keys(properties)) {
      if (!rules.has(property)) throw new Error(`OpenAPI: ${name}.${property} is documented but has no validator, so the validation pipe strips it`);
      const nested = properties[property];
      if ('$ref' in nested) this.describeComponent(nested.$ref.split('/').pop()!);
    }
    const required = [...rules].filter(([property, rule]) => rule.required && !alternativeFields.has(property)).map(([property]) => property);
    if (required.length) schema.required = required;
    else delete schema.required;
    if (alternatives) schema[alternatives.kind] = alternativesSchema(alternatives);
    return schema;
  }
}

function alternativesSchema({ kind, groups }: BodyAlternatives): SchemaObject[] {
  const all = new Set(groups.flatMap((group) => group.required));
  return groups.map(({ title, required }) => {
    const excluded = (kind === 'oneOf' ? [...all].filter((field) => !required.includes(field)) : []).map((field) => ({
      properties: { [field]: {} },
      required: [field],
    }));
    return {
      ...(title ? { title } : {}),
      required,
      ...(excluded.length ? { not: excluded.length === 1 ? excluded[0] : { anyOf: excluded } } : {}),
    };
  });
}

function isUuidPipe(pipe: unknown): boolean {
  return pipe === ParseUUIDPipe || pipe instanceof ParseUUIDPipe;
}
