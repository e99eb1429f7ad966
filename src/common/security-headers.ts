import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { HelmetOptions } from 'helmet';

/** The security headers of every answer (helmet's defaults, with a CSP that lets Swagger UI at /docs run). */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      // Swagger UI at /docs uses inline styles and an inline initialiser.
      styleSrc: ["'self'", "'unsafe-inline'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
  },
};

/**
 * helmet's headers, computed once. They depend on nothing in the request (no CSP nonces), so
 * building them per request, as @fastify/helmet does (it builds helmet's middleware anew on every
 * request), is pure overhead (issue 13).
 */
export function securityHeaders(options: Readonly<HelmetOptions> = HELMET_OPTIONS): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => (finished = true));
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return Object.freeze(headers);
}

/** Every answer gets the security headers and its request id (`X-Request-Id`, the caller's when sane). */
export function registerResponseHeaders(fastify: FastifyInstance, headers: Readonly<Record<string, string>> = securityHeaders()): void {
  const names = Object.keys(headers);
  fastify.addHook('onRequest', (request, reply, done) => {
    for (const name of names) reply.header(name, headers[name]);
    reply.header('x-request-id', request.id);
    done();
  });
}
