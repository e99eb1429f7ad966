import { applyDecorators, Type } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';

export interface DocumentedError {
  description: string;
  example: unknown;
}

/**
 * Builds a surface's "@ApiXxxErrors(400, 401, …)" decorator: each status documented with the
 * surface's own error schema and an example of its envelope.
 */
export function errorResponsesDecorator(model: Type<unknown>, errors: Record<number, DocumentedError>) {
  return (...statuses: number[]) =>
    applyDecorators(
      ApiExtraModels(model),
      ...statuses.map((status) => {
        const documented = errors[status];
        if (!documented) throw new Error(`no documented ${status} error for ${model.name}`);
        return ApiResponse({
          status,
          description: documented.description,
          content: { 'application/json': { schema: { $ref: getSchemaPath(model) }, example: documented.example } },
        });
      }),
    );
}

/**
 * Some documents answer a bare JSON value (`"DONE!"`, `null`). Nest would send a string as
 * text/plain and `null` as an empty body, so such handlers return this text with a JSON content type.
 */
export function jsonValue(value: string | null): string {
  return JSON.stringify(value);
}
