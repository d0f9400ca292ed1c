import type { FastifyPluginAsync } from 'fastify';
import type { Workspace } from '../workspaces/workspace.context.ts';
import type { ConnectionFields, IntegrationSchemas } from './integrations.schemas.ts';
import type {
  ConnectionAuthType,
  IntegrationConnectionRow,
  ProviderId,
} from './integrations.table.ts';

/** What a provider's connect flow learnt: the token and the provider workspace it opens. */
export interface ConnectionGrant {
  authType: ConnectionAuthType;
  accessToken: string;
  refreshToken: string | null;
  /** Seconds until the access token expires (OAuth); null: it does not. */
  expiresIn: number | null;
  scopes: string | null;
  externalWorkspaceId: string;
  externalWorkspaceName: string | null;
}

/**
 * What integrations need from a provider (`Provider.connections`). Integrations name no
 * provider: connections, secrets and the settings routes go through this contract.
 */
export interface ConnectionProvider {
  id: ProviderId;
  /** For messages: "Linear", "Notion". */
  displayName: string;
  fields: ConnectionFields;
  /** OAuth, when the provider has it. */
  oauth?: {
    /** The authorize URL for a fresh `state`; null when OAuth is not configured here. */
    authorizeUrl(state: string): URL | null;
    /**
     * Exchanges the callback's code (the `state` it was issued for, already checked: PKCE
     * derives its verifier from it); throws an AppError (502/503) when the provider refuses.
     */
    exchange(code: string, state: string): Promise<ConnectionGrant>;
  };
  /**
   * Runs after a connection was saved (connected or reconnected), e.g. registering the webhooks
   * rules saved before the connection existed need. Failures are the provider's to record.
   */
  afterConnect?(connection: IntegrationConnectionRow): Promise<void>;
  /**
   * This provider's fields of the connection view (`fields.shape`). Members see the view too:
   * what only admins may see (a URL naming the connection) depends on `viewer.admin`.
   */
  view(
    connection: IntegrationConnectionRow,
    viewer: ConnectionViewer,
  ): Promise<Record<string, unknown>>;
  /** Runs before the connection is deleted (deleting the webhooks registered at the provider). */
  beforeDisconnect?(connection: IntegrationConnectionRow): Promise<void>;
  /** Provider-specific settings routes, registered under `/api/settings/integrations/<id>`. */
  settingsRoutes?: FastifyPluginAsync<ProviderRouteOptions>;
}

/** Who is looking at a connection: an admin of its workspace (or its owner), or a member. */
export interface ConnectionViewer {
  admin: boolean;
}

/** What a provider's own settings routes get: the shapes and the connection view. */
export interface ProviderRouteOptions {
  schemas: IntegrationSchemas;
  /** The connection as an admin sees it (404 when there is none); provider routes that return it are admin routes. */
  connectionView(workspace: Workspace, provider: ProviderId): Promise<Record<string, unknown>>;
}
