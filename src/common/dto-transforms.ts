import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** class-transformer `@Transform` helpers shared by every surface's DTOs. */
type TransformInput = { value: unknown };

export const trim = ({ value }: TransformInput) => (typeof value === 'string' ? value.trim() : value);

/** E-mails are compared lower-cased: normalise before validating. */
export const lowerTrim = ({ value }: TransformInput) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

/**
 * Some documents send phone numbers as JSON numbers (`"phone": 89999999999`): read them as text.
 * Only whole numbers from 0 to 2^53 − 1 (15-digit E.164 fits); others (-1, 1e308, 2^53 + 1) stay
 * numbers and fail the field's `IsString`.
 */
export const numberToText = ({ value }: TransformInput) => (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? String(value) : value);

/** Python clients send `True`/`"true"` as often as `true`. */
export const looseBoolean = ({ value }: TransformInput) =>
  typeof value === 'string' && /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value;

/** For `@ValidateIf(wasSent)`: validate a field only when the body has it (`null` included, so it is refused where not allowed). */
export const wasSent = (_: unknown, value: unknown) => value !== undefined;

/**
 * What each transform lets a field accept beyond its validators' schema, for the OpenAPI document
 * (api/openapi/validation-schema.ts): `numberToText` also takes a whole number… A transform used
 * in a DTO but not registered here stops the document from building.
 */
export const TRANSFORM_INPUTS = new Map<Function, (schema: SchemaObject) => SchemaObject>();

export function documentTransforms(...entries: [transform: Function, widen: (schema: SchemaObject) => SchemaObject][]): void {
  for (const [transform, widen] of entries) TRANSFORM_INPUTS.set(transform, widen);
}

/** A transform that only normalises (trims, lower-cases): the schema states the normal form. */
export const SAME_INPUT = (schema: SchemaObject) => schema;

/** The schema, or else one more accepted form. */
export const orAlso =
  (alternative: SchemaObject) =>
  (schema: SchemaObject): SchemaObject => ({ anyOf: [schema, alternative] });

documentTransforms(
  [trim, SAME_INPUT],
  [lowerTrim, SAME_INPUT],
  [numberToText, orAlso({ type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER })],
  [looseBoolean, orAlso({ type: 'string', pattern: '^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$' })],
);
