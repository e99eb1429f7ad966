/**
 * The committed OpenAPI document (`openapi/openapi.json`) is an artifact: written by `npm run
 * openapi`, checked for drift by a test, and the source of the generated SDK. Keys are sorted at
 * every level so the file only changes when the API does.
 */
export const OPENAPI_ARTIFACT = 'openapi/openapi.json';

export function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortedDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** The document as the file holds it: sorted, two-space indented, one trailing newline. */
export function serializeOpenApi(document: unknown): string {
  return `${JSON.stringify(sortedDeep(document), null, 2)}\n`;
}

/** Where two documents first differ, as a dotted path (for a one-line failure). */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return path || '(root)';
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of [...keys].sort()) {
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
    if (found) return found;
  }
  return null;
}
