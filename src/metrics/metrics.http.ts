import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { surfaceNameOf } from '../api/surfaces';
import { Metrics } from './metrics.service';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const UNMATCHED = 'unmatched';

/**
 * Who may read GET /metrics. With METRICS_TOKEN: exactly `Authorization: Bearer <token>` (compared
 * in constant time). Without: only a client on this machine (the socket's peer is loopback; the
 * X-Forwarded-For that TRUST_PROXY honours is not enough) that came through no proxy, so a reverse
 * proxy on the same host does not open it to the world.
 */
export function mayReadMetrics(request: Pick<FastifyRequest, 'headers'> & { socket: { remoteAddress?: string } }, token: string | undefined): boolean {
  if (token !== undefined) {
    const header = request.headers.authorization;
    if (typeof header !== 'string') return false;
    const digest = (text: string) => createHash('sha256').update(text).digest();
    return timingSafeEqual(digest(header), digest(`Bearer ${token}`));
  }
  const proxied = request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined;
  return !proxied && LOOPBACK.test(request.socket.remoteAddress ?? '');
}

/**
 * The route template of a request (never the raw URL: ids and tokens would make a label per
 * request), without the UUID pattern of 001's `/:userId` route.
 */
export function routeLabel(template: string | undefined): string {
  return template ? template.replace(/\(\^.*?\$\)/g, '') : UNMATCHED;
}

/**
 * One histogram observation per request in Fastify's onResponse hook (labels cached per route
 * template), and GET /metrics, registered on Fastify itself: outside Nest's guards (no token check
 * of ours, no rate limit) and outside the OpenAPI document.
 */
export function registerMetrics(fastify: FastifyInstance, metrics: Metrics, token: string | undefined): void {
  const labels = new Map<string, { route: string; surface: string }>();
  fastify.addHook('onResponse', (request, reply, done) => {
    const template = request.routeOptions.url;
    let label = template === undefined ? undefined : labels.get(template);
    if (!label) {
      // A template's paths all belong to one surface: the first request's path says which.
      label = { route: routeLabel(template), surface: surfaceNameOf(request.url) ?? 'none' };
      if (template !== undefined) labels.set(template, label);
    }
    metrics.observeRequest(label.route, request.method, reply.statusCode, label.surface, reply.elapsedTime / 1000);
    done();
  });

  fastify.get('/metrics', async (request, reply) => {
    if (!mayReadMetrics({ headers: request.headers, socket: request.raw.socket }, token)) {
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="metrics"')
        .type('application/problem+json')
        .send({
          type: 'urn:problem:identity:unauthenticated',
          title: 'Unauthenticated',
          status: 401,
          detail: token ? 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' : 'without METRICS_TOKEN, /metrics answers only on the loopback interface',
          code: 'Unauthenticated',
        });
    }
    const { contentType, body } = await metrics.text();
    return reply.type(contentType).header('Cache-Control', 'no-store').send(body);
  });
}
