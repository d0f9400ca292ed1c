import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../../http/errors.ts';
import type { ProviderRouteOptions } from '../../integrations/integration.provider.ts';
import {
  adminOnly as admin,
  ms,
  settingsSecurity as security,
  settingsTags as tags,
} from '../../integrations/integration-settings.routes.ts';
import { providerCredential } from '../../integrations/integrations.schemas.ts';
import { requestContext } from '../../security-log/security-log.ts';
import { sessionWorkspace } from '../../workspaces/workspace.context.ts';
import { LINEAR } from './linear.id.ts';
import {
  linearLinkBody,
  linearTeamLinkResultSchema,
  linearTeamLinkSchema,
  linearTeamSchema,
  reconcileReportSchema,
} from './linear.schemas.ts';
import type { LinearConnectService, WebhookStatus } from './linear-connect.service.ts';

export function webhookView(w: WebhookStatus) {
  return { ...w, lastErrorAt: ms(w.lastErrorAt) };
}

/**
 * `/api/settings/integrations/linear/...`: connect with an API key, list teams, link
 * containers to teams, reconcile webhooks.
 */
export function linearSettingsRoutes(
  linear: LinearConnectService,
): FastifyPluginAsync<ProviderRouteOptions> {
  return async (app, { schemas, connectionView }) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.post(
      '/api-key',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: 'Connect Linear with a personal API key (self-hosting, tests)',
          description: 'The key needs admin rights in Linear to manage webhooks.',
          body: z.object({ apiKey: providerCredential }),
          response: {
            201: z.object({ data: schemas.connection }),
            ...errorResponses(400, 401, 403, 409, 503),
          },
        },
      },
      async (request, reply) => {
        const { workspace, userId } = sessionWorkspace(request);
        await linear.connectApiKey({
          workspace,
          userId,
          apiKey: request.body.apiKey,
          audit: requestContext(request),
        });
        return reply.code(201).send({ data: await connectionView(workspace, LINEAR) });
      },
    );

    r.get(
      '/teams',
      {
        schema: {
          tags,
          security,
          summary: 'The teams of the connected Linear workspace',
          response: {
            200: z.object({ data: z.array(linearTeamSchema) }),
            ...errorResponses(400, 401, 403, 404, 503),
          },
        },
      },
      async (request) => ({ data: await linear.listTeams(sessionWorkspace(request).workspace) }),
    );

    r.get(
      '/links',
      {
        schema: {
          tags,
          security,
          summary: 'Containers linked to Linear teams',
          response: {
            200: z.object({ data: z.array(linearTeamLinkSchema) }),
            ...errorResponses(401, 403, 503),
          },
        },
      },
      async (request) => {
        const links = await linear.listLinks(sessionWorkspace(request).workspace);
        return {
          data: links.map((l) => ({
            containerId: l.containerId,
            teamId: l.teamId,
            teamName: l.teamName,
            sync: l.sync,
            syncReason: l.syncReason,
            createdAt: l.createdAt.getTime(),
          })),
        };
      },
    );

    const containerParams = z.object({ containerId: z.uuid() });

    r.put(
      '/links/:containerId',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: 'Link a container to a Linear team (replaces its previous team)',
          description:
            'Registers the team’s webhook at Linear if nothing else needed it yet. When Linear cannot be reached the link is kept and the webhook shows `healthy: false`; the reconciler retries.',
          params: containerParams,
          body: linearLinkBody,
          response: {
            200: z.object({ data: linearTeamLinkResultSchema }),
            ...errorResponses(400, 401, 403, 404, 503),
          },
        },
      },
      async (request) => {
        const { workspace, userId } = sessionWorkspace(request);
        const result = await linear.linkContainer({
          workspace,
          userId,
          containerId: request.params.containerId,
          teamId: request.body.teamId,
          sync: request.body.sync,
        });
        return {
          data: {
            containerId: result.link.containerId,
            teamId: result.link.teamId,
            teamName: result.link.teamName,
            sync: result.link.sync,
            syncReason: result.link.syncReason,
            createdAt: result.link.createdAt.getTime(),
            webhook: webhookView(result.webhook),
          },
        };
      },
    );

    r.delete(
      '/links/:containerId',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: 'Unlink a container (deletes the team’s webhook when nothing else needs it)',
          params: containerParams,
          response: {
            200: z.object({
              data: z.object({ containerId: z.string(), deleted: z.literal(true) }),
            }),
            ...errorResponses(400, 401, 403, 404, 503),
          },
        },
      },
      async (request) => {
        await linear.unlinkContainer({
          workspace: sessionWorkspace(request).workspace,
          containerId: request.params.containerId,
        });
        return { data: { containerId: request.params.containerId, deleted: true as const } };
      },
    );

    r.post(
      '/reconcile',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: 'Reconcile Linear webhooks now (recreate missing, delete orphans)',
          response: {
            200: z.object({ data: reconcileReportSchema }),
            ...errorResponses(401, 403, 404, 503),
          },
        },
      },
      async (request) => ({ data: await linear.reconcile(sessionWorkspace(request).workspace) }),
    );
  };
}
