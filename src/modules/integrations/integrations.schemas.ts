import { z } from 'zod';
import {
  connectionAuthTypes,
  connectionStatuses,
  integrationProviders,
  linearWebhookStatuses,
} from './integrations.table.ts';

const epochMs = z.number().int().describe('epoch milliseconds');

export const linearWebhookStatusSchema = z
  .object({
    teamId: z.string(),
    teamName: z.string().nullable(),
    status: z.enum(linearWebhookStatuses),
    healthy: z.boolean().describe('registered at Linear and no error since'),
    needs: z.array(z.string()).describe('what needs it: `container:<id>`, `automation:<id>`'),
    lastError: z.string().nullable(),
    lastErrorAt: epochMs.nullable(),
  })
  .meta({ id: 'LinearWebhookStatus' });

export const notionSubscriptionSchema = z
  .object({
    webhookUrl: z
      .string()
      .nullable()
      .describe(
        'URL to paste in the Notion integration’s Webhooks tab (null without PUBLIC_BASE_URL)',
      ),
    verified: z.boolean(),
    verifiedAt: epochMs.nullable(),
    pendingVerification: z
      .boolean()
      .describe('a handshake token is waiting: read it from GET .../notion/verification'),
    pendingReceivedAt: epochMs.nullable(),
  })
  .meta({ id: 'NotionSubscription' });

/** A connection as the settings UI sees it. Tokens and secrets are not part of it. */
export const integrationConnectionSchema = z
  .object({
    id: z.string(),
    provider: z.enum(integrationProviders),
    authType: z.enum(connectionAuthTypes),
    status: z.enum(connectionStatuses),
    workspaceId: z.string().nullable().describe('Linear organization id / Notion workspace id'),
    workspaceName: z.string().nullable(),
    connectedAt: epochMs,
    connectedByUserId: z.string().nullable(),
    lastEventAt: epochMs.nullable(),
    lastError: z.string().nullable(),
    lastErrorAt: epochMs.nullable(),
    lastReconciledAt: epochMs.nullable(),
    webhooks: z.array(linearWebhookStatusSchema).describe('Linear only; [] for Notion'),
    notion: notionSubscriptionSchema.nullable().describe('Notion only'),
  })
  .meta({ id: 'IntegrationConnection' });

export const integrationsOverviewSchema = z
  .object({
    linear: integrationConnectionSchema.nullable(),
    notion: integrationConnectionSchema.nullable(),
  })
  .meta({ id: 'IntegrationsOverview' });

export const oauthStartSchema = z
  .object({
    authorizeUrl: z.string().describe('send the browser here'),
    state: z.string().describe('single use, 10 minutes, bound to this user and workspace'),
    expiresAt: epochMs,
  })
  .meta({ id: 'OAuthStart' });

/**
 * A credential sent in a provider's Authorization header: trimmed (pasted keys often carry a
 * newline), then printable ASCII only. A control character would make the request itself fail
 * (reported as "provider unreachable") or split the header (security finding 6).
 */
const providerCredential = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII, without spaces or control characters');

export const linearApiKeyBodySchema = z.object({ apiKey: providerCredential });
export const notionTokenBodySchema = z.object({ token: providerCredential });

export const oauthCallbackBodySchema = z.object({
  code: z.string().min(1).max(2_000),
  state: z.string().min(1).max(200),
});

export const linearTeamSchema = z
  .object({ id: z.string(), name: z.string(), key: z.string() })
  .meta({ id: 'LinearTeam' });

export const linearTeamLinkSchema = z
  .object({
    containerId: z.string(),
    teamId: z.string(),
    teamName: z.string().nullable(),
    createdAt: epochMs,
  })
  .meta({ id: 'LinearTeamLink' });

export const linearTeamLinkResultSchema = linearTeamLinkSchema
  .extend({ webhook: linearWebhookStatusSchema })
  .meta({ id: 'LinearTeamLinkResult' });

export const reconcileReportSchema = z
  .object({
    connectionId: z.string(),
    created: z.number().int(),
    deleted: z.number().int(),
    orphansDeleted: z.number().int(),
    error: z.string().nullable(),
  })
  .meta({ id: 'LinearReconcileReport' });

export const notionVerificationSchema = z
  .object({
    webhookUrl: z.string().nullable(),
    verified: z.boolean(),
    verifiedAt: epochMs.nullable(),
    pendingToken: z
      .string()
      .nullable()
      .describe('the handshake token to paste in Notion’s Verify dialog, then confirm here'),
    pendingReceivedAt: epochMs.nullable(),
  })
  .meta({ id: 'NotionVerification' });

export const disconnectedSchema = z.object({
  provider: z.enum(integrationProviders),
  disconnected: z.literal(true),
});
