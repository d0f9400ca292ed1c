import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, errorResponses } from '../../http/errors.ts';
import { requestContext } from '../security-log/security-log.ts';
import {
  apiKeyIdParamsSchema,
  apiKeySchema,
  createApiKeyBodySchema,
  createdApiKeySchema,
  revokeApiKeyBodySchema,
  rollApiKeyBodySchema,
} from './api-keys.schemas.ts';
import {
  createApiKey,
  getApiKey,
  listApiKeys,
  revokeApiKey,
  rollApiKey,
  toApiKeyView,
} from './api-keys.service.ts';

const rolledApiKeySchema = createdApiKeySchema
  .extend({ previous: apiKeySchema.describe('The old key, with the expiry the roll gave it') })
  .meta({ id: 'RolledApiKey' });

function sessionUserId(request: FastifyRequest): string {
  const user = request.sessionUser;
  if (!user) {
    // sessionAuth runs first in the settings scope; reaching here without it is a wiring bug.
    throw new AppError({ code: 'UNAUTHORIZED', status: 401, message: 'Sign in required.' });
  }
  return user.userId;
}

/**
 * /api/settings/api-keys: the settings UI's key management (Clerk session; registered inside
 * the settings scope with prefix `/api-keys`). Only the caller's own keys exist here: another
 * user's key id answers 404. The full key appears in the create and roll answers only.
 */
export async function apiKeySettingsRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const deps = app.apiKeys.deps;
  const now = () => app.apiKeys.verifier.now();

  r.post(
    '',
    {
      schema: {
        tags: ['Settings'],
        summary: 'Create an API key (the full key is in this answer only)',
        security: [{ session: [] }],
        body: createApiKeyBodySchema,
        response: {
          201: z.object({ data: createdApiKeySchema }),
          ...errorResponses(400, 401, 403, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const userId = sessionUserId(request);
      const created = await createApiKey(deps, {
        userId,
        name: request.body.name,
        scopes: request.body.scopes,
        expiresAt: request.body.expiresAt ?? null,
        workspace: request.body.workspace ?? null,
        audit: requestContext(request),
      });
      reply.code(201).header('cache-control', 'no-store');
      return { data: { ...toApiKeyView(created.apiKey, now()), key: created.key } };
    },
  );

  r.get(
    '',
    {
      schema: {
        tags: ['Settings'],
        summary: "The caller's API keys (no secrets), newest first",
        security: [{ session: [] }],
        response: {
          200: z.object({ data: z.array(apiKeySchema) }),
          ...errorResponses(401, 403, 429, 503),
        },
      },
    },
    async (request) => {
      const rows = await listApiKeys(deps, sessionUserId(request));
      const at = now();
      return { data: rows.map((row) => toApiKeyView(row, at)) };
    },
  );

  r.get(
    '/:id',
    {
      schema: {
        tags: ['Settings'],
        summary: 'One API key (no secret)',
        security: [{ session: [] }],
        params: apiKeyIdParamsSchema,
        response: {
          200: z.object({ data: apiKeySchema }),
          ...errorResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const row = await getApiKey(deps, { userId: sessionUserId(request), id: request.params.id });
      return { data: toApiKeyView(row, now()) };
    },
  );

  r.post(
    '/:id/revoke',
    {
      schema: {
        tags: ['Settings'],
        summary: 'Revoke an API key: it fails on the very next request, on every instance',
        security: [{ session: [] }],
        params: apiKeyIdParamsSchema,
        body: revokeApiKeyBodySchema,
        response: {
          200: z.object({ data: apiKeySchema }),
          ...errorResponses(400, 401, 403, 404, 429, 503),
        },
      },
    },
    async (request) => {
      const row = await revokeApiKey(deps, {
        userId: sessionUserId(request),
        id: request.params.id,
        reason: request.body?.reason ?? null,
        audit: requestContext(request),
      });
      return { data: toApiKeyView(row, now()) };
    },
  );

  r.post(
    '/:id/roll',
    {
      schema: {
        tags: ['Settings'],
        summary:
          'Roll an API key: a new key with the same name, scopes and expiry; the old one works until oldKeyExpiresAt (default now)',
        security: [{ session: [] }],
        params: apiKeyIdParamsSchema,
        body: rollApiKeyBodySchema,
        response: {
          201: z.object({ data: rolledApiKeySchema }),
          ...errorResponses(400, 401, 403, 404, 409, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const rolled = await rollApiKey(deps, {
        userId: sessionUserId(request),
        id: request.params.id,
        oldKeyExpiresAt: request.body?.oldKeyExpiresAt ?? null,
        audit: requestContext(request),
      });
      const at = now();
      reply.code(201).header('cache-control', 'no-store');
      return {
        data: {
          ...toApiKeyView(rolled.apiKey, at),
          key: rolled.key,
          previous: toApiKeyView(rolled.previous, at),
        },
      };
    },
  );
}
