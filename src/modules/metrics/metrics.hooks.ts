import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../http/errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The problem code of the error response, when there was one (set by the error handler). */
    problemCode: ErrorCode | null;
  }
}

function surfaceOf(url: string): string {
  if (url.startsWith('/api/v1')) return 'api';
  if (url.startsWith('/api/settings')) return 'settings';
  if (url.startsWith('/webhooks')) return 'webhooks';
  return 'other';
}

function keyAuthOutcome(request: FastifyRequest): string {
  if (request.principal) {
    if (request.problemCode === 'INSUFFICIENT_SCOPE') return 'insufficient_scope';
    if (request.problemCode === 'RATE_LIMITED') return 'rate_limited';
    return 'ok';
  }
  switch (request.problemCode) {
    case 'API_KEY_REVOKED':
      return 'revoked';
    case 'API_KEY_EXPIRED':
      return 'expired';
    case 'RATE_LIMITED':
      return 'throttled';
    case 'UNAUTHORIZED':
      return request.headers.authorization ? 'invalid' : 'missing';
    default:
      return 'error';
  }
}

/** Memoises a labelled child per label combination (bounded: route patterns, statuses). */
function childCache<T>(make: (key: string) => T): (key: string) => T {
  const children = new Map<string, T>();
  return (key) => {
    let child = children.get(key);
    if (child === undefined) {
      child = make(key);
      children.set(key, child);
    }
    return child;
  };
}

/**
 * Request-level series, observed once per response from what the request carries, so that
 * features do not each have to remember to count: latency by route pattern and status,
 * API-key auth outcomes on /api/v1, and 429s by surface. A synchronous hook, and each label
 * combination's child is looked up once: prom-client would otherwise hash the labels on
 * every observation.
 */
export function registerMetricsHooks(app: FastifyInstance): void {
  app.decorateRequest('problemCode', null);
  const duration = childCache((key) => {
    const [method, route, status] = key.split('\u0000');
    return app.metrics.httpDuration.labels({ method, route, status });
  });
  const keyAuth = childCache((outcome) => app.metrics.keyAuth.labels({ outcome }));
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: bounded label cardinality, no ids or secrets.
    const route = request.routeOptions.url;
    duration(`${request.method}\u0000${route ?? 'unmatched'}\u0000${reply.statusCode}`).observe(
      reply.elapsedTime / 1000,
    );
    const surface = surfaceOf(request.url);
    if (reply.statusCode === 429) app.metrics.rateLimited.inc({ scope: surface });
    if (surface === 'api' && route) keyAuth(keyAuthOutcome(request)).inc();
    done();
  });
}
