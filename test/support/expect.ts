import { HttpResponse } from './http';

/** ISO 8601 date-time with a zone (Z or an offset). */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 9457 problem response of /v1 with this status (and error kind, when given). */
export function expectProblem(res: HttpResponse, status: number, code?: string): void {
  // Status and body together, so a failure shows what came back.
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: code ? { status, code } : { status } });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), detail: expect.any(String), code: expect.any(String) });
}

/** Every key of a JSON value, at any depth (for "no secret field anywhere" checks). */
export function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, inner]) => [key, ...allKeys(inner)]);
  return [];
}
