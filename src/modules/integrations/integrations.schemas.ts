import { z } from 'zod';
import { connectionAuthTypes, connectionStatuses, type ProviderId } from './integrations.table.ts';

/**
 * Fields a provider adds to the connection view (`GET /api/settings/integrations`): their
 * schema, and their value for connections of other providers (`[]`, `null`).
 */
export interface ConnectionFields {
  shape: z.ZodRawShape;
  empty: Record<string, unknown>;
}

export const epochMs = z.number().int().describe('epoch milliseconds');

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
export const providerCredential = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII, without spaces or control characters');

export const oauthCallbackBodySchema = z.object({
  code: z.string().min(1).max(2_000),
  state: z.string().min(1).max(200),
});

/**
 * The shapes that depend on which providers exist, built once from the registry
 * (`providers/registry.ts`): a connection as the settings UI sees it (tokens and secrets
 * are not part of it), the overview with one key per provider, the disconnect answer.
 */
export function createIntegrationSchemas(
  providers: ReadonlyArray<{ id: ProviderId; fields: ConnectionFields }>,
) {
  const [first, ...rest] = providers.map((p) => p.id);
  if (!first) throw new Error('no providers');
  const providerId = z.enum([first, ...rest]);
  const connection = z
    .object({
      id: z.string(),
      provider: providerId,
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
      ...Object.assign({}, ...providers.map((p) => p.fields.shape)),
    })
    .meta({ id: 'IntegrationConnection' });
  const overview = z
    .object(Object.fromEntries(providers.map((p) => [p.id, connection.nullable()])))
    .meta({ id: 'IntegrationsOverview' });
  const disconnected = z.object({ provider: providerId, disconnected: z.literal(true) });
  const empty: Record<string, unknown> = Object.assign({}, ...providers.map((p) => p.fields.empty));
  return { providerId, connection, overview, disconnected, empty };
}

export type IntegrationSchemas = ReturnType<typeof createIntegrationSchemas>;
