import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, notFound } from '../../http/errors.ts';
import { orgAdminRole } from '../identity/identity.guards.ts';
import { requestContext } from '../security-log/security-log.ts';
import {
  requireWorkspaceAdmin,
  sessionWorkspace,
  type Workspace,
} from '../workspaces/workspace.context.ts';
import type { ConnectionStatus, ConnectionsService } from './connections.service.ts';
import type { ConnectionViewer, ProviderRouteOptions } from './integration.provider.ts';
import {
  type IntegrationSchemas,
  oauthCallbackBodySchema,
  oauthStartSchema,
} from './integrations.schemas.ts';
import type { ProviderId } from './integrations.table.ts';

export const ms = (d: Date | null) => (d ? d.getTime() : null);

export const adminOnly = { preHandler: requireWorkspaceAdmin };

const asAdmin: ConnectionViewer = { admin: true };

/** Whether the session may change the workspace's settings (admin, or a personal workspace). */
function viewerOf(request: FastifyRequest): ConnectionViewer {
  const session = request.sessionUser;
  return { admin: !session?.activeOrganisationId || session.activeOrgRole === orgAdminRole };
}
export const settingsSecurity = [{ session: [] }];
export const settingsTags = ['Integrations'];

function connectionView(schemas: IntegrationSchemas, status: ConnectionStatus) {
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
    ...schemas.empty,
    ...status.extra,
  };
}

/**
 * `/api/settings/integrations/...`: connect and disconnect providers, and each provider's own
 * routes under `/<provider>`. Registered inside the settings scope, so the Clerk session is
 * already verified; the workspace is the session's active organisation (admins only for
 * changes) or the personal workspace.
 */
export const integrationSettingsRoutes: FastifyPluginAsync<{
  schemas: IntegrationSchemas;
}> = async (app, { schemas }) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const connections: ConnectionsService = app.integrations.connections;
  const tags = settingsTags;
  const security = settingsSecurity;
  const admin = adminOnly;

  const view = async (workspace: Workspace, provider: ProviderId, viewer = asAdmin) => {
    const status = await connections.status(workspace, provider, viewer);
    return status ? connectionView(schemas, status) : null;
  };
  const required = async (workspace: Workspace, provider: ProviderId, viewer = asAdmin) => {
    const result = await view(workspace, provider, viewer);
    if (!result) throw notFound(`${connections.provider(provider).displayName} connection`);
    return result;
  };

  r.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'The workspace’s provider connections and their webhook health',
        response: {
          200: z.object({ data: schemas.overview }),
          ...errorResponses(401, 403, 503),
        },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      const data: Record<string, Record<string, unknown> | null> = {};
      for (const provider of app.integrations.providers)
        data[provider.id] = await view(workspace, provider.id, viewerOf(request));
      return { data };
    },
  );

  for (const provider of app.integrations.providers) {
    const id = provider.id;
    const name = provider.displayName;
    r.get(
      `/${id}`,
      {
        schema: {
          tags,
          security,
          summary: `The ${name} connection`,
          response: {
            200: z.object({ data: schemas.connection }),
            ...errorResponses(401, 403, 404, 503),
          },
        },
      },
      async (request) => ({
        data: await required(sessionWorkspace(request).workspace, id, viewerOf(request)),
      }),
    );

    r.delete(
      `/${id}`,
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: `Disconnect ${name}: deletes its registered webhooks, tokens and links`,
          response: {
            200: z.object({ data: schemas.disconnected }),
            ...errorResponses(401, 403, 404, 503),
          },
        },
      },
      async (request) => {
        await connections.disconnect(
          sessionWorkspace(request).workspace,
          id,
          requestContext(request),
        );
        return { data: { provider: id, disconnected: true as const } };
      },
    );

    if (provider.oauth) {
      r.post(
        `/${id}/oauth/authorize`,
        {
          ...admin,
          schema: {
            tags,
            security,
            summary: `Start connecting ${name} with OAuth`,
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
          const started = await connections.startOAuth({ provider: id, workspace, userId });
          return { data: { ...started, expiresAt: started.expiresAt.getTime() } };
        },
      );

      r.post(
        `/${id}/oauth/callback`,
        {
          ...admin,
          schema: {
            tags,
            security,
            summary: `Finish connecting ${name} with OAuth (code + state)`,
            body: oauthCallbackBodySchema,
            response: {
              201: z.object({ data: schemas.connection }),
              ...errorResponses(400, 401, 403, 409, 503),
            },
          },
        },
        async (request, reply) => {
          const { workspace, userId } = sessionWorkspace(request);
          await connections.completeOAuth({
            provider: id,
            workspace,
            userId,
            ...request.body,
            audit: requestContext(request),
          });
          return reply.code(201).send({ data: await required(workspace, id) });
        },
      );
    }

    if (provider.settingsRoutes)
      await app.register(provider.settingsRoutes, {
        prefix: `/${id}`,
        schemas,
        connectionView: required,
      } as ProviderRouteOptions & { prefix: string });
  }
};
