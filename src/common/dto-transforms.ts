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
export const looseBoolean = ({ value }: TransformInput) => (typeof value === 'string' && /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value);

/** For `@ValidateIf(wasSent)`: validate a field only when the body has it (`null` included, so it is refused where not allowed). */
export const wasSent = (_: unknown, value: unknown) => value !== undefined;
