import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { TransformationType } from 'class-transformer';
import type { MetadataStorage as TransformMetadataStorage } from 'class-transformer/types/MetadataStorage';
import {
  ARRAY_MAX_SIZE,
  ARRAY_MIN_SIZE,
  EQUALS,
  getMetadataStorage,
  IS_ARRAY,
  IS_BOOLEAN,
  IS_DATE_STRING,
  IS_EMAIL,
  IS_ENUM,
  IS_IN,
  IS_INT,
  IS_ISO8601,
  IS_LENGTH,
  IS_NOT_EMPTY,
  IS_NUMBER,
  IS_NUMBER_STRING,
  IS_OBJECT,
  IS_POSITIVE,
  IS_STRING,
  IS_URL,
  IS_UUID,
  MATCHES,
  MAX,
  MAX_LENGTH,
  MIN,
  MIN_LENGTH,
  ValidationTypes,
} from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { TRANSFORM_INPUTS } from '../../common/dto-transforms';
import { SERVICE_RULE, ServiceRuleSchema } from '../../common/openapi.decorators';
import type { AppConfig } from '../../config/app-config';

// class-transformer keeps its `@Transform` registry out of its typed entry point (as @nestjs/mapped-types reads it).

const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as { defaultMetadataStorage: TransformMetadataStorage };

/**
 * The OpenAPI facts of a DTO, read from the class-validator decorators that validate it (and the
 * class-transformer `@Transform`s that run first), so the document states every constraint the
 * server enforces without a hand-written copy. (The Nest Swagger CLI plugin does this at compile
 * time; the tests run under SWC, where it does not, so it is done here, at run time.)
 */
export interface PropertyRule {
  /** The schema of an accepted value: type, format, lengths, pattern, range, enum. */
  schema: SchemaObject;
  /** Validated when absent (no `@IsOptional`, no `@ValidateIf` that skips it). */
  required: boolean;
  /** `null` skips validation (`@IsOptional`, `@ValidateIf(v => v !== null)`…). */
  nullable: boolean;
  /** Whether it is validated depends on other fields (`@ValidateIf(body => body.phone === undefined)`). */
  dependsOnSiblings: boolean;
}

type Facet = (constraints: unknown[]) => SchemaObject;
const STRING: SchemaObject = { type: 'string' };

/**
 * class-validator's decorators by name → the schema they enforce. A validator not listed here
 * stops the document from building (an undocumented constraint): add it, with `{}` if it adds
 * nothing a schema can say.
 */
export const VALIDATOR_SCHEMAS: Record<string, Facet> = {
  [IS_STRING]: () => STRING,
  [IS_EMAIL]: () => ({ type: 'string', format: 'email' }),
  [IS_UUID]: () => ({ type: 'string', format: 'uuid' }),
  [IS_DATE_STRING]: () => ({ type: 'string', format: 'date-time' }),
  [IS_ISO8601]: () => ({ type: 'string', format: 'date-time' }),
  [IS_URL]: () => ({ type: 'string', format: 'uri' }),
  [IS_NUMBER_STRING]: () => ({ type: 'string', pattern: '^-?\\d+(\\.\\d+)?$' }),
  [IS_BOOLEAN]: () => ({ type: 'boolean' }),
  [IS_INT]: () => ({ type: 'integer' }),
  [IS_NUMBER]: () => ({ type: 'number' }),
  [IS_POSITIVE]: () => ({ exclusiveMinimum: true, minimum: 0 }),
  [IS_IN]: ([values]) => ({ enum: [...(values as unknown[])] }),
  [IS_ENUM]: ([entity]) => ({ enum: [...new Set(Object.values(entity as object))] }),
  [IS_NOT_EMPTY]: () => ({ minLength: 1 }),
  [MIN_LENGTH]: ([min]) => ({ minLength: min as number }),
  [MAX_LENGTH]: ([max]) => ({ maxLength: max as number }),
  [IS_LENGTH]: ([min, max]) => ({ minLength: min as number, ...(max === undefined ? {} : { maxLength: max as number }) }),
  [MATCHES]: ([pattern, modifiers]) => ({ pattern: patternOf(pattern as RegExp | string, modifiers as string | undefined) }),
  [MIN]: ([min]) => ({ minimum: min as number }),
  [MAX]: ([max]) => ({ maximum: max as number }),
  [ARRAY_MIN_SIZE]: ([min]) => ({ minItems: min as number }),
  [ARRAY_MAX_SIZE]: ([max]) => ({ maxItems: max as number }),
  [IS_ARRAY]: () => ({ type: 'array' }),
  [IS_OBJECT]: () => ({ type: 'object' }),
  [EQUALS]: ([value]) => ({ enum: [value] }),
  /** 002's "present and not null": said by `required` and `nullable`. */
  drfRequired: () => ({}),
};

function patternOf(pattern: RegExp | string, modifiers?: string): string {
  const flags = typeof pattern === 'string' ? (modifiers ?? '') : pattern.flags;
  if (flags.replace(/[gu]/g, '')) throw new Error(`a @Matches pattern with flags "${flags}" has no OpenAPI form: write it without them`);
  return typeof pattern === 'string' ? pattern : pattern.source;
}

/** The rules of every validated property of `dto`, inherited ones included. */
export function validationRulesOf(dto: Function, config: AppConfig): Map<string, PropertyRule> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const entry of metadata) byProperty.set(entry.propertyName, [...(byProperty.get(entry.propertyName) ?? []), entry]);
  const names = [...byProperty.keys()];
  const rules = new Map<string, PropertyRule>();
  for (const [name, entries] of byProperty) rules.set(name, ruleOf(dto, name, entries, names, config));
  return rules;
}

function ruleOf(dto: Function, name: string, entries: ValidationMetadata[], siblings: string[], config: AppConfig): PropertyRule {
  const conditions = entries
    .filter((entry) => entry.type === ValidationTypes.CONDITIONAL_VALIDATION)
    .map((entry) => entry.constraints[0] as (object: object, value: unknown) => boolean);
  // class-validator validates a property only when every condition holds.
  const validated = (object: Record<string, unknown>) => {
    try {
      return conditions.every((condition) => condition(object, object[name]));
    } catch {
      return true;
    }
  };
  const others = Object.fromEntries(siblings.filter((sibling) => sibling !== name).map((sibling) => [sibling, 'x']));
  const dependsOnSiblings = validated({}) !== validated(others) || validated({ [name]: 'x' }) !== validated({ ...others, [name]: 'x' });

  const schema: SchemaObject = {};
  const items: SchemaObject = {};
  for (const entry of entries) {
    if (entry.type === ValidationTypes.CONDITIONAL_VALIDATION || entry.type === ValidationTypes.WHITELIST) continue;
    if (entry.type === ValidationTypes.IS_DEFINED) continue;
    // @ValidateNested: the nested DTO is described (and completed) by its own schema, which the property references.
    if (entry.type === ValidationTypes.NESTED_VALIDATION) continue;
    const facet = entry.name ? VALIDATOR_SCHEMAS[entry.name] : undefined;
    if (!facet)
      throw new Error(
        `${dto.name}.${name}: the validator "${entry.name ?? entry.type}" has no OpenAPI form; add it to VALIDATOR_SCHEMAS (api/openapi/validation-schema.ts)`,
      );
    Object.assign(entry.each ? items : schema, facet(entry.constraints ?? []));
  }
  if (Object.keys(items).length) Object.assign(schema, { type: 'array', items: { ...typed(items) } });
  const serviceRule = Reflect.getMetadata(SERVICE_RULE, dto.prototype, name) as ServiceRuleSchema | undefined;
  if (serviceRule) tighten(schema, typeof serviceRule === 'function' ? serviceRule(config) : serviceRule, `${dto.name}.${name}`);
  return { schema: widenByTransforms(dto, name, typed(schema)), required: validated({}), nullable: !validated({ [name]: null }), dependsOnSiblings };
}

/** Both the validators' and the service's limits hold: the larger minimum, the smaller maximum. */
function tighten(schema: SchemaObject, rule: SchemaObject, where: string): void {
  for (const [key, value] of Object.entries(rule)) {
    const current = (schema as Record<string, unknown>)[key];
    if (current === undefined) (schema as Record<string, unknown>)[key] = value;
    else if (key === 'minLength' || key === 'minimum') (schema as Record<string, unknown>)[key] = Math.max(current as number, value as number);
    else if (key === 'maxLength' || key === 'maximum') (schema as Record<string, unknown>)[key] = Math.min(current as number, value as number);
    else if (current !== value) throw new Error(`${where}: its validators and its service rule both set "${key}"`);
  }
}

/** Fills in the type the facets imply (a length → string, a range → number, an enum → its values' type). */
function typed(schema: SchemaObject): SchemaObject {
  if (schema.type) return schema;
  if (schema.enum) {
    const types = new Set(schema.enum.map((value) => typeof value));
    if (types.size === 1) return { type: types.has('number') ? 'number' : types.has('boolean') ? 'boolean' : 'string', ...schema };
    return schema;
  }
  if (['minLength', 'maxLength', 'pattern', 'format'].some((key) => key in schema)) return { type: 'string', ...schema };
  if (['minimum', 'maximum'].some((key) => key in schema)) return { type: 'number', ...schema };
  return schema;
}

/** What the property accepts before its `@Transform`s run (a phone sent as a number…). */
function widenByTransforms(dto: Function, name: string, schema: SchemaObject): SchemaObject {
  const transforms = defaultMetadataStorage.findTransformMetadatas(dto, name, TransformationType.PLAIN_TO_CLASS);
  return transforms.reduce((accepted, { transformFn }) => {
    const widen = TRANSFORM_INPUTS.get(transformFn);
    if (!widen)
      throw new Error(
        `${dto.name}.${name}: the @Transform ${transformFn.name || '(anonymous)'} has no documented input; register it with documentTransforms (common/dto-transforms.ts)`,
      );
    return widen(accepted);
  }, schema);
}
