import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../http/errors.ts';
import { safeEqual } from '../../http/safe-equal.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: import('./metrics.ts').Metrics;
    /** Functions run before each scrape to refresh gauges (inbox depth, ...). */
    metricsCollectors: Array<() => Promise<void>>;
  }
}

/**
 * GET /metrics in Prometheus text format. Restricted by configuration: off unless
 * METRICS_ENABLED, and behind `Authorization: Bearer <METRICS_TOKEN>` when a token is set.
 * With `requireToken` (NODE_ENV=production) and no token, there is no /metrics at all: the
 * series name routes, outcomes and load, which a stranger should not read (security finding 8).
 */
export const metricsRoutes: FastifyPluginAsync<{
  token: string | undefined;
  requireToken: boolean;
}> = async (app, options) => {
  if (options.requireToken && !options.token) {
    app.log.warn('/metrics is off: set METRICS_TOKEN to serve it in production');
    return;
  }
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (options.token) {
      const header = request.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!safeEqual(presented, options.token)) {
        throw new AppError({
          code: 'UNAUTHORIZED',
          status: 401,
          message: 'Metrics require the operator token.',
          headers: { 'www-authenticate': 'Bearer realm="MONOid metrics"' },
        });
      }
    }
    await Promise.all(
      app.metricsCollectors.map((collect) =>
        collect().catch((err: unknown) => request.log.warn({ err }, 'metrics collector failed')),
      ),
    );
    reply.type(app.metrics.registry.contentType);
    return app.metrics.registry.metrics();
  });
};
