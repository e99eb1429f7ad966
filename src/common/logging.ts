import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { LoggerService } from '@nestjs/common';
import { Logger as NestPinoLogger } from 'nestjs-pino/Logger';
import type { PinoLogger } from 'nestjs-pino/PinoLogger';
import pino, { DestinationStream, Logger } from 'pino';

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

/** Operational paths: health probes and metrics scrapes. */
const OPERATIONAL_PATH = /^\/(metrics|health\/[^/?]*)\/?(\?|$)/;

/** Fastify's request id (which pino-http logs): the caller's X-Request-Id when sane, else a UUID. */
export function requestId(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Paths whose last segment is a link token (003's e-mailed links). */
const TOKEN_IN_PATH = /^(\/api\/(?:reset_password|confirm_email))\/[^/?]+/i;
/** Query parameters whose value may be a secret (`?token=` of /v1's e-mailed links, and anything alike). */
const SECRET_QUERY_NAME = /token|code|pass|pwd|secret|key|sig|auth/i;
const CENSOR = '[redacted]';

/**
 * A URL as it may be logged (SPEC §9 rule 7): a link token in the path and the value of any
 * secret-looking query parameter become "[redacted]"; other query parameters stay (page, search…).
 */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = redactPath(queryAt < 0 ? url : url.slice(0, queryAt));
  if (queryAt < 0) return path;
  const query = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      let name = pair.slice(0, equals);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        return `${pair.slice(0, equals)}=${CENSOR}`; // undecodable name: do not guess
      }
      return SECRET_QUERY_NAME.test(name) ? `${pair.slice(0, equals)}=${CENSOR}` : pair;
    })
    .join('&');
  return `${path}?${query}`;
}

/** The router matches the decoded path (`/api/reset%5Fpassword/…` is the same route), so match that too. */
function redactPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURI(path);
  } catch {
    // not valid UTF-8: the router refuses it too
  }
  return TOKEN_IN_PATH.test(decoded) ? decoded.replace(TOKEN_IN_PATH, `$1/${CENSOR}`) : path;
}

/** Error properties that may be logged; everything else (a query's `parameters`, `driverError`, pg's `detail`, `where`…) is dropped. */
const SAFE_ERROR_FIELDS = ['code', 'errno', 'syscall', 'statusCode', 'severity', 'routine', 'schema', 'table', 'column', 'constraint', 'dataType'];

/**
 * The `err` serializer of every log line (SPEC §9 rule 7): type, message and stack, plus the fields
 * above. A database error also loses its SQL text (whose bound values TypeORM may inline) and
 * the quoted values PostgreSQL puts in messages (`invalid input syntax for type uuid: "…"`).
 * Takes an Error or pino's serialized form of one (whose `raw` is the Error).
 */
export function serializeError(value: unknown, depth = 0): unknown {
  const raw = (value as { raw?: unknown } | null)?.raw ?? value;
  if (!(raw instanceof Error) && !(raw && typeof raw === 'object' && 'message' in raw)) return value;
  const error = raw as Error & Record<string, unknown>;
  const database = isDatabaseError(error);
  const scrub = (text: string) => (database ? text.replace(/"(?:[^"\\]|\\.)*"/g, '"…"') : text);
  const message = String(error.message ?? '');
  const safe: Record<string, unknown> = {
    type: error.constructor?.name ?? error.name,
    message: scrub(message),
    stack: typeof error.stack === 'string' ? scrub(error.stack.split(message).join(scrub(message))) : undefined,
  };
  for (const field of SAFE_ERROR_FIELDS) {
    const own = error[field] ?? (error.driverError as Record<string, unknown> | undefined)?.[field];
    if (typeof own === 'string' || typeof own === 'number') safe[field] = own;
  }
  // (Top-level `code` fields are censored by REDACTED_PATHS: a database error's SQLSTATE stays readable here.)
  if (database && typeof safe.code === 'string') safe.sqlState = safe.code;
  if (error.cause !== undefined && depth < 3) safe.cause = serializeError(error.cause, depth + 1);
  return safe;
}

/** TypeORM's QueryFailedError and the pg driver's DatabaseError (a PostgreSQL error carries a `severity`). */
function isDatabaseError(error: Record<string, unknown>): boolean {
  return 'query' in error || 'parameters' in error || 'driverError' in error || (typeof error.severity === 'string' && typeof error.code === 'string');
}

/** Injection token of the root pino logger (the access log writes through it). */
export const ROOT_LOGGER = 'ROOT_LOGGER';

/** Log lines are written in batches of at least this many bytes (or every `LOG_FLUSH_MS`). */
const LOG_BATCH_BYTES = 4096;
const LOG_FLUSH_MS = 1000;

/**
 * The one pino logger of the process: JSON lines, secrets redacted, errors through `serializeError`.
 * Without a stream (production) it writes to stdout synchronously in batches: a line joins a buffer
 * that is written once it holds 4 KiB, or after at most a second, and at exit. (One write per
 * request, as pino's asynchronous mode did under load, woke a libuv pool thread for each and cost
 * the refresh path a few per cent of throughput, measured with `npm run bench -- --only refresh`.)
 * A process killed outright loses at most the last second of lines.
 */
export function createRootLogger(level: string, stream?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[Redacted]' }, serializers: { err: serializeError } };
  if (stream) return pino(options, stream);
  const stdout = pino.destination({ dest: 1, sync: true, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS });
  process.once('exit', () => {
    try {
      stdout.flushSync();
    } catch {
      // stdout already closed: nothing left to write to
    }
  });
  return pino(options, stdout);
}

/**
 * Nest's logger (`new Logger('Outbox').warn({...}, 'message')` everywhere) writing through this
 * app's `logger`, with nestjs-pino's mapping of Nest's arguments. Issue 13: nestjs-pino's
 * LoggerModule is not used: its pino-http middleware and per-request AsyncLocalStorage scope cost
 * more than the work of a profile read, and its fallback logger is a process-wide singleton. The
 * access log is written by `registerAccessLog`; error lines carry the request id themselves.
 */
export function nestLogger(logger: Logger): LoggerService {
  return new NestPinoLogger(logger as unknown as PinoLogger, {});
}

/**
 * The access log (issue 13): one line per request, written from Fastify's `onResponse` hook with
 * the same shape pino-http wrote (`req`: id, method, path, query, remoteAddress; `res`: statusCode;
 * `responseTime` in ms; `msg: "request completed"`). Level by status: 5xx error, 4xx warn, else
 * info; probes and scrapes (`/health/*`, `/metrics`) come every few seconds: `debug`, whatever they answer. Link tokens in the URL are redacted.
 */
export function registerAccessLog(fastify: FastifyInstance, root: Logger): void {
  // Same stream and level as the root logger, without its redaction pass: these lines are built
  // here from known-safe fields only (no headers, no bodies, the URL redacted by redactUrl).
  const logger = pino({ level: root.level }, (root as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]);
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const url = request.url;
    const level = OPERATIONAL_PATH.test(url) ? 'debug' : status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    if (logger.isLevelEnabled(level)) {
      const redacted = redactUrl(url);
      const queryAt = redacted.indexOf('?');
      const req = {
        id: request.id,
        method: request.method,
        path: queryAt < 0 ? redacted : redacted.slice(0, queryAt),
        ...(queryAt >= 0 && queryAt < redacted.length - 1 ? { query: redacted.slice(queryAt + 1) } : {}),
        remoteAddress: request.socket.remoteAddress,
      };
      logger[level]({ req, res: { statusCode: status }, responseTime: Math.round(reply.elapsedTime * 1000) / 1000 }, 'request completed');
    }
    done();
  });
}
