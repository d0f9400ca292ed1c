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

/**
 * Request-level series, observed once per response from what the request carries, so that
 * features do not each have to remember to count: latency by route pattern and status,
 * API-key auth outcomes on /api/v1, and 429s by surface.
 */
export function registerMetricsHooks(app: FastifyInstance): void {
  app.decorateRequest('problemCode', null);
  app.addHook('onResponse', async (request, reply) => {
    const { metrics } = app;
    metrics.httpDuration.observe(
      {
        method: request.method,
        // The route pattern, never the raw URL: bounded label cardinality, no ids or secrets.
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    const surface = surfaceOf(request.url);
    if (reply.statusCode === 429) metrics.rateLimited.inc({ scope: surface });
    if (surface === 'api' && request.routeOptions.url)
      metrics.keyAuth.inc({ outcome: keyAuthOutcome(request) });
  });
}
