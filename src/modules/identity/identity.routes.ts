import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import { settingsMeSchema } from './identity.schemas.ts';
import { getSettingsMe } from './identity.service.ts';

/** Settings routes of the identity feature; registered inside the `/api/settings` scope. */
export async function identitySettingsRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/me',
    {
      schema: {
        tags: ['Settings'],
        summary: 'The signed-in user, their organisations and the active workspace',
        security: [{ session: [] }],
        response: {
          200: z.object({ data: settingsMeSchema }),
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async (request) => ({ data: await getSettingsMe(app.database.db, request.sessionUser) }),
  );
}
