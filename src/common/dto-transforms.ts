/** class-transformer `@Transform` helpers shared by every surface's DTOs. */
type TransformInput = { value: unknown };

export const trim = ({ value }: TransformInput) => (typeof value === 'string' ? value.trim() : value);

/** E-mails are compared lower-cased: normalise before validating. */
export const lowerTrim = ({ value }: TransformInput) => (typeof value === 'string' ? value.trim().toLowerCase() : value);
