import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, serviceUnavailable } from '../../http/errors.ts';

const healthSchema = z.object({ status: z.literal('ok') });
const readySchema = z.object({
  status: z.literal('ready'),
  database: z.enum(['postgres', 'pglite']),
});

/** Liveness (the process answers) and readiness (the database answers). */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/healthz',
    {
      schema: {
        tags: ['Meta'],
        summary: 'Liveness: the process is up',
        response: { 200: healthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  r.get(
    '/readyz',
    {
      schema: {
        tags: ['Meta'],
        summary: 'Readiness: the database answers',
        response: { 200: readySchema, ...errorResponses(503) },
      },
    },
    async (request) => {
      try {
        await app.database.ping(1_500);
      } catch (err) {
        request.log.warn({ err }, 'readiness check failed');
        throw serviceUnavailable('The database is not reachable.', { 'retry-after': '1' });
      }
      return { status: 'ready' as const, database: app.database.kind };
    },
  );
};
