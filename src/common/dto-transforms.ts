/** class-transformer `@Transform` helpers shared by every surface's DTOs. */
type TransformInput = { value: unknown };

export const trim = ({ value }: TransformInput) => (typeof value === 'string' ? value.trim() : value);

/** E-mails are compared lower-cased: normalise before validating. */
export const lowerTrim = ({ value }: TransformInput) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

/** Some documents send phone numbers as JSON numbers (`"phone": 89999999999`): read them as text. */
export const numberToText = ({ value }: TransformInput) => (typeof value === 'number' && Number.isFinite(value) ? String(value) : value);
