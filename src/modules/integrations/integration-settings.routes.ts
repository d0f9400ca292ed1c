import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, notFound } from '../../http/errors.ts';
import {
  requireWorkspaceAdmin,
  sessionWorkspace,
  type Workspace,
} from '../workspaces/workspace.context.ts';
import type { ConnectionStatus, ConnectionsService, WebhookStatus } from './connections.service.ts';
import {
  disconnectedSchema,
  integrationConnectionSchema,
  integrationsOverviewSchema,
  linearApiKeyBodySchema,
  linearTeamLinkResultSchema,
  linearTeamLinkSchema,
  linearTeamSchema,
  notionTokenBodySchema,
  notionVerificationSchema,
  oauthCallbackBodySchema,
  oauthStartSchema,
  reconcileReportSchema,
} from './integrations.schemas.ts';
import type { IntegrationProvider } from './integrations.table.ts';

const ms = (d: Date | null) => (d ? d.getTime() : null);

function webhookView(w: WebhookStatus) {
  return { ...w, lastErrorAt: ms(w.lastErrorAt) };
}

function connectionView(connections: ConnectionsService, status: ConnectionStatus) {
  const c = status.connection;
  return {
    id: c.id,
    provider: c.provider,
    authType: c.authType,
    status: c.status,
    workspaceId: c.externalWorkspaceId,
    workspaceName: c.externalWorkspaceName,
    connectedAt: c.createdAt.getTime(),
    connectedByUserId: c.connectedByUserId,
    lastEventAt: ms(status.lastEventAt),
    lastError: c.lastError,
    lastErrorAt: ms(c.lastErrorAt),
    lastReconciledAt: ms(c.lastReconciledAt),
    webhooks: status.webhooks.map(webhookView),
    notion:
      c.provider === 'notion'
        ? {
            webhookUrl: connections.notionWebhookUrl(c),
            verified: c.notionVerificationTokenEnc !== null,
            verifiedAt: ms(c.notionVerifiedAt),
            pendingVerification: c.notionPendingTokenEnc !== null,
            pendingReceivedAt: ms(c.notionPendingReceivedAt),
          }
        : null,
  };
}

const admin = { preHandler: requireWorkspaceAdmin };
const security = [{ session: [] }];
const tags = ['Integrations'];

/**
 * `/api/settings/integrations/...`: connect Linear and Notion, link containers to Linear
 * teams, confirm the Notion webhook subscription. Registered inside the settings scope, so
 * the Clerk session is already verified; the workspace is the session's active organisation
 * (admins only for changes) or the personal workspace.
 */
export const integrationSettingsRoutes: FastifyPluginAsync = async (app) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const connections = app.integrations.connections;

  const view = async (workspace: Workspace, provider: IntegrationProvider) => {
    const status = await connections.status(workspace, provider);
    return status ? connectionView(connections, status) : null;
  };
  const required = async (workspace: Workspace, provider: IntegrationProvider) => {
    const result = await view(workspace, provider);
    if (!result) throw notFound(`${provider === 'linear' ? 'Linear' : 'Notion'} connection`);
    return result;
  };

  r.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'The workspace’s Linear and Notion connections and their webhook health',
        response: {
          200: z.object({ data: integrationsOverviewSchema }),
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return {
        data: { linear: await view(workspace, 'linear'), notion: await view(workspace, 'notion') },
      };
    },
  );

  for (const provider of ['linear', 'notion'] as const) {
    r.get(
      `/${provider}`,
      {
        schema: {
          tags,
          security,
          summary: `The ${provider} connection`,
          response: {
            200: z.object({ data: integrationConnectionSchema }),
            ...errorResponses(401, 403, 404, 503),
          },
        },
      },
      async (request) => ({ data: await required(sessionWorkspace(request).workspace, provider) }),
    );

    r.delete(
      `/${provider}`,
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: `Disconnect ${provider}: deletes its registered webhooks, tokens and team links`,
          response: {
            200: z.object({ data: disconnectedSchema }),
            ...errorResponses(401, 403, 404, 503),
          },
        },
      },
      async (request) => {
        await connections.disconnect(sessionWorkspace(request).workspace, provider);
        return { data: { provider, disconnected: true as const } };
      },
    );

    r.post(
      `/${provider}/oauth/authorize`,
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: `Start connecting ${provider} with OAuth`,
          description:
            'Returns the provider’s authorize URL with a fresh `state`. The provider redirects the browser to the configured redirect URI with `code` and `state`; the UI then posts both to `.../oauth/callback` with the same session.',
          response: {
            200: z.object({ data: oauthStartSchema }),
            ...errorResponses(400, 401, 403, 503),
          },
        },
      },
      async (request) => {
        const { workspace, userId } = sessionWorkspace(request);
        const started = await connections.startOAuth({ provider, workspace, userId });
        return { data: { ...started, expiresAt: started.expiresAt.getTime() } };
      },
    );

    r.post(
      `/${provider}/oauth/callback`,
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: `Finish connecting ${provider} with OAuth (code + state)`,
          body: oauthCallbackBodySchema,
          response: {
            201: z.object({ data: integrationConnectionSchema }),
            ...errorResponses(400, 401, 403, 409, 503),
          },
        },
      },
      async (request, reply) => {
        const { workspace, userId } = sessionWorkspace(request);
        const input = { workspace, userId, ...request.body };
        if (provider === 'linear') await connections.completeLinearOAuth(input);
        else await connections.completeNotionOAuth(input);
        return reply.code(201).send({ data: await required(workspace, provider) });
      },
    );
  }

  r.post(
    '/linear/api-key',
    {
      ...admin,
      schema: {
        tags,
        security,
        summary: 'Connect Linear with a personal API key (self-hosting, tests)',
        description: 'The key needs admin rights in Linear to manage webhooks.',
        body: linearApiKeyBodySchema,
        response: {
          201: z.object({ data: integrationConnectionSchema }),
          ...errorResponses(400, 401, 403, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const { workspace, userId } = sessionWorkspace(request);
      await connections.connectLinearApiKey({ workspace, userId, apiKey: request.body.apiKey });
      return reply.code(201).send({ data: await required(workspace, 'linear') });
    },
  );

  r.get(
    '/linear/teams',
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
    async (request) => ({ data: await connections.listTeams(sessionWorkspace(request).workspace) }),
  );

  r.get(
    '/linear/links',
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
      const links = await connections.listLinks(sessionWorkspace(request).workspace);
      return {
        data: links.map((l) => ({
          containerId: l.containerId,
          teamId: l.teamId,
          teamName: l.teamName,
          createdAt: l.createdAt.getTime(),
        })),
      };
    },
  );

  const containerParams = z.object({ containerId: z.uuid() });

  r.put(
    '/linear/links/:containerId',
    {
      ...admin,
      schema: {
        tags,
        security,
        summary: 'Link a container to a Linear team (replaces its previous team)',
        description:
          'Registers the team’s webhook at Linear if nothing else needed it yet. When Linear cannot be reached the link is kept and the webhook shows `healthy: false`; the reconciler retries.',
        params: containerParams,
        body: z.object({ teamId: z.string().min(1).max(100) }),
        response: {
          200: z.object({ data: linearTeamLinkResultSchema }),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request) => {
      const { workspace, userId } = sessionWorkspace(request);
      const result = await connections.linkContainer({
        workspace,
        userId,
        containerId: request.params.containerId,
        teamId: request.body.teamId,
      });
      return {
        data: {
          containerId: result.link.containerId,
          teamId: result.link.teamId,
          teamName: result.link.teamName,
          createdAt: result.link.createdAt.getTime(),
          webhook: webhookView(result.webhook),
        },
      };
    },
  );

  r.delete(
    '/linear/links/:containerId',
    {
      ...admin,
      schema: {
        tags,
        security,
        summary: 'Unlink a container (deletes the team’s webhook when nothing else needs it)',
        params: containerParams,
        response: {
          200: z.object({ data: z.object({ containerId: z.string(), deleted: z.literal(true) }) }),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request) => {
      await connections.unlinkContainer({
        workspace: sessionWorkspace(request).workspace,
        containerId: request.params.containerId,
      });
      return { data: { containerId: request.params.containerId, deleted: true as const } };
    },
  );

  r.post(
    '/linear/reconcile',
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
    async (request) => ({ data: await connections.reconcile(sessionWorkspace(request).workspace) }),
  );

  r.post(
    '/notion/token',
    {
      ...admin,
      schema: {
        tags,
        security,
        summary: 'Connect Notion with an internal integration token',
        body: notionTokenBodySchema,
        response: {
          201: z.object({ data: integrationConnectionSchema }),
          ...errorResponses(400, 401, 403, 409, 503),
        },
      },
    },
    async (request, reply) => {
      const { workspace, userId } = sessionWorkspace(request);
      await connections.connectNotionToken({ workspace, userId, token: request.body.token });
      return reply.code(201).send({ data: await required(workspace, 'notion') });
    },
  );

  r.get(
    '/notion/verification',
    {
      ...admin,
      schema: {
        tags,
        security,
        summary: 'The Notion webhook subscription: URL to use, and the pending handshake token',
        response: {
          200: z.object({ data: notionVerificationSchema }),
          ...errorResponses(401, 403, 404, 503),
        },
      },
    },
    async (request) => {
      const connection = await connections.requireConnection(
        sessionWorkspace(request).workspace,
        'notion',
      );
      return {
        data: {
          webhookUrl: connections.notionWebhookUrl(connection),
          verified: connection.notionVerificationTokenEnc !== null,
          verifiedAt: ms(connection.notionVerifiedAt),
          pendingToken: connections.pendingNotionToken(connection),
          pendingReceivedAt: ms(connection.notionPendingReceivedAt),
        },
      };
    },
  );

  r.post(
    '/notion/verification/confirm',
    {
      ...admin,
      schema: {
        tags,
        security,
        summary:
          'Confirm the pending handshake token (echo it); events are verified with it from now on',
        body: z.object({ verificationToken: z.string().min(1).max(500) }),
        response: {
          200: z.object({ data: integrationConnectionSchema }),
          ...errorResponses(400, 401, 403, 404, 409, 503),
        },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      await connections.confirmNotionVerification({
        workspace,
        verificationToken: request.body.verificationToken,
      });
      return { data: await required(workspace, 'notion') };
    },
  );
};
