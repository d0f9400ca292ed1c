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
import { NOTION } from './notion.id.ts';
import { notionVerificationSchema } from './notion.schemas.ts';
import type { NotionConnectService } from './notion-connect.service.ts';

/**
 * `/api/settings/integrations/notion/...`: connect with an internal integration token, and
 * the webhook subscription's verification handshake.
 */
export function notionSettingsRoutes(
  notion: NotionConnectService,
): FastifyPluginAsync<ProviderRouteOptions> {
  return async (app, { schemas, connectionView }) => {
    const r = app.withTypeProvider<ZodTypeProvider>();
    r.post(
      '/token',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary: 'Connect Notion with an internal integration token',
          body: z.object({ token: providerCredential }),
          response: {
            201: z.object({ data: schemas.connection }),
            ...errorResponses(400, 401, 403, 409, 503),
          },
        },
      },
      async (request, reply) => {
        const { workspace, userId } = sessionWorkspace(request);
        await notion.connectToken({
          workspace,
          userId,
          token: request.body.token,
          audit: requestContext(request),
        });
        return reply.code(201).send({ data: await connectionView(workspace, NOTION) });
      },
    );

    r.get(
      '/verification',
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
        const connection = await app.integrations.connections.requireConnection(
          sessionWorkspace(request).workspace,
          NOTION,
        );
        return {
          data: {
            webhookUrl: notion.webhookUrl(connection),
            verified: connection.notionVerificationTokenEnc !== null,
            verifiedAt: ms(connection.notionVerifiedAt),
            pendingToken: notion.pendingToken(connection),
            pendingReceivedAt: ms(connection.notionPendingReceivedAt),
            pendingFrom: connection.notionPendingFrom,
          },
        };
      },
    );

    r.post(
      '/verification/confirm',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary:
            'Confirm the pending handshake token (echo it); events are verified with it from now on',
          body: z.object({ verificationToken: z.string().min(1).max(500) }),
          response: {
            200: z.object({ data: schemas.connection }),
            ...errorResponses(400, 401, 403, 404, 409, 503),
          },
        },
      },
      async (request) => {
        const { workspace } = sessionWorkspace(request);
        await notion.confirmVerification({
          workspace,
          verificationToken: request.body.verificationToken,
        });
        return { data: await connectionView(workspace, NOTION) };
      },
    );

    r.delete(
      '/verification/pending',
      {
        ...admin,
        schema: {
          tags,
          security,
          summary:
            'Discard the pending handshake token (not the one Notion shows): the next handshake can land',
          response: {
            200: z.object({ data: schemas.connection }),
            ...errorResponses(401, 403, 404, 503),
          },
        },
      },
      async (request) => {
        const { workspace } = sessionWorkspace(request);
        await notion.discardPending(workspace);
        return { data: await connectionView(workspace, NOTION) };
      },
    );
  };
}
