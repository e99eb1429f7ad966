import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { QueryFailedError } from 'typeorm';

/**
 * Paths pino replaces with "[Redacted]". Bodies are never logged; these cover headers and any
 * object a developer might log by mistake.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.pwd',
  '*.new_pwd',
  '*.code',
  '*.token',
  '*.refresh',
  '*.refreshToken',
  '*.accessToken',
  '*.access',
  '*.passwordHash',
];

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Fastify's request id (which pino-http logs): the caller's X-Request-Id when sane, else a UUID. */
export function requestId(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** nestjs-pino options: JSON lines with the request id, secrets redacted. */
export function loggerParams(level: string, stream?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level,
        redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
        // Query strings can carry link tokens (e.g. ?token=…): log the path only.
        serializers: {
          req: (request: { id: string; method: string; url: string; remoteAddress?: string }) => ({
            id: request.id,
            method: request.method,
            path: request.url?.split('?')[0],
            remoteAddress: request.remoteAddress,
          }),
          res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
        },
        customLogLevel: (_request: unknown, response: { statusCode: number }, error?: Error) =>
          error || response.statusCode >= 500 ? 'error' : response.statusCode >= 400 ? 'warn' : 'info',
      },
      stream as DestinationStream,
    ].filter(Boolean) as Params['pinoHttp'],
  };
}

/**
 * An error as it may be logged (SPEC §9.7: no SQL parameters or bound values in a log line). A
 * failed query keeps its SQL text, SQLSTATE and constraint, and loses its parameters, the driver's
 * `detail` (which quotes the row) and, for data exceptions (SQLSTATE class 22), the message (which
 * quotes the input). Anything else is logged as it is.
 */
export function loggableError(error: unknown): unknown {
  if (!(error instanceof QueryFailedError)) return error;
  const { code, constraint, table, column } = error as unknown as Record<string, unknown>;
  const message = typeof code === 'string' && code.startsWith('22') ? `data exception (SQLSTATE ${code})` : error.message;
  const safe = new Error(message);
  safe.name = 'QueryFailedError';
  const frames = error.stack?.indexOf('\n    at ') ?? -1;
  safe.stack = `QueryFailedError: ${message}${frames >= 0 ? error.stack!.slice(frames) : ''}`;
  const fields = Object.entries({ query: error.query, code, constraint, table, column }).filter(([, value]) => value !== undefined);
  return Object.assign(safe, Object.fromEntries(fields));
}
