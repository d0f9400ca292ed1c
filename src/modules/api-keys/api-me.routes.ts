import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, notFound } from '../../http/errors.ts';
import { requestActor } from '../workspaces/workspace.service.ts';
import { meSchema } from './api-keys.schemas.ts';
import { normaliseScopes, workspaceOfKey } from './api-keys.service.ts';
import { loadMe } from './api-me.service.ts';

/** GET /api/v1/me: who the key acts as (the documented CLI's `whoami`). */
export const apiMeRoutes: FastifyPluginAsync = async (app) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/me',
    {
      schema: {
        tags: ['API'],
        summary: 'The key, its user and the organisations it reaches',
        security: [{ apiKey: [] }],
        response: { 200: z.object({ data: meSchema }), ...errorResponses(401, 403, 429, 503) },
      },
    },
    async (request) => {
      const principal = request.principal;
      const details = request.apiKeyDetails;
      if (!principal || !details) throw notFound('API key');
      const db = app.database.db;
      const me = await loadMe(db, await requestActor(request, db));
      return {
        data: {
          user: me.user,
          key: {
            id: details.keyId,
            name: details.name,
            scopes: normaliseScopes(details.scopes),
            expiresAt: details.expiresAt,
            workspace: workspaceOfKey(details),
          },
          organisations: me.organisations,
        },
      };
    },
  );
};
