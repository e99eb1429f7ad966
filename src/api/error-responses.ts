import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { ResponseObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

export interface DocumentedError {
  description: string;
  example: unknown;
}

/**
 * How one surface documents its errors: the envelope's class, its media type, and per status a
 * description and an example. Routes name the statuses their handler can answer
 * (`@ApiProblems(400, 409)`); the statuses every operation can answer whatever its handler does
 * (400, 401, 413, 414, 429, 503: see api/openapi/document.ts) are added from the same table.
 */
export interface SurfaceErrors {
  model: Type<unknown>;
  mediaType: 'application/json' | 'application/problem+json';
  /** Properties the envelope may carry besides the listed ones (002's field errors). */
  additionalProperties?: SchemaObject;
  errors: Partial<Record<number, DocumentedError>>;
}

/** The header that says when to try again (429, 503). */
const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before trying again.', required: true, schema: { type: 'integer', minimum: 1 } },
};

/** The OpenAPI response object of `status` on `surface`. */
export function errorResponse(surface: SurfaceErrors, status: number): ResponseObject {
  const documented = surface.errors[status];
  if (!documented) throw new Error(`no documented ${status} error for ${surface.model.name}`);
  return {
    description: documented.description,
    ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
    content: { [surface.mediaType]: { schema: { $ref: getSchemaPath(surface.model) }, example: documented.example } },
  } as ResponseObject;
}

/** Builds a surface's "@ApiXxxErrors(400, 401, …)" decorator from its table. */
export function errorResponsesDecorator(surface: SurfaceErrors) {
  return (...statuses: number[]) =>
    applyDecorators(ApiExtraModels(surface.model), ...statuses.map((status) => ApiResponse({ status, ...errorResponse(surface, status) } as never)));
}
