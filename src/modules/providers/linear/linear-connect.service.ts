import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/database.ts';
import { badRequest, notFound } from '../../../http/errors.ts';
import {
  type ConnectionsService,
  providerFailure,
} from '../../integrations/connections.service.ts';
import type { ConnectionGrant } from '../../integrations/integration.provider.ts';
import { findConnection } from '../../integrations/integrations.repository.ts';
import type { IntegrationConnectionRow } from '../../integrations/integrations.table.ts';
import type { SecurityContext } from '../../security-log/security-log.ts';
import type { Workspace } from '../../workspaces/workspace.context.ts';
import { LINEAR } from './linear.id.ts';
import {
  deleteLink,
  findLinkByContainer,
  insertLink,
  listLinks,
  listNeeds,
  listRegistrations,
  updateLinkSync,
} from './linear.repository.ts';
import type { LinearTeamLinkRow } from './linear.table.ts';
import {
  exchangeLinearCode,
  fetchLinearOrganization,
  isLinearAuthError,
  type LinearTeam,
  listLinearTeams,
} from './linear-api.ts';
import type { LinearClients } from './linear-client.ts';
import { type LinkSync, linkDirection } from './linear-two-way.ts';
import type { LinearWebhookService, ReconcileReport } from './linear-webhooks.service.ts';

export const LINEAR_NAME = 'Linear';

/** Whether a container may be linked from a workspace (the containers feature answers). */
export type ContainerGuard = (input: {
  workspace: Workspace;
  containerId: string;
}) => Promise<boolean>;

export interface WebhookStatus {
  teamId: string;
  /** From a team link when there is one (teams needed only by automations have none). */
  teamName: string | null;
  status: 'active' | 'missing';
  healthy: boolean;
  needs: string[];
  lastError: string | null;
  lastErrorAt: Date | null;
}

export interface LinkResult {
  link: LinearTeamLinkRow;
  webhook: WebhookStatus;
}

const AUTH_REJECTED = 'Linear rejected the credentials; reconnect Linear.';

/** Connecting Linear, its teams, and linking containers to teams. */
export class LinearConnectService {
  constructor(
    private readonly deps: {
      db: Db;
      config: Config;
      connections: ConnectionsService;
      clients: LinearClients;
      webhooks: LinearWebhookService;
      containerGuard: ContainerGuard;
    },
  ) {}

  async #organization(client: Parameters<typeof fetchLinearOrganization>[0], authIsUser = false) {
    try {
      return await fetchLinearOrganization(client);
    } catch (err) {
      throw providerFailure(LINEAR_NAME, err, authIsUser || isLinearAuthError(err));
    }
  }

  async connectApiKey(input: {
    workspace: Workspace;
    userId: string;
    apiKey: string;
    audit?: SecurityContext;
  }): Promise<IntegrationConnectionRow> {
    const organization = await this.#organization(
      this.deps.clients.forCredentials({ authType: 'api_key', token: input.apiKey }),
    );
    return this.deps.connections.save({
      audit: input.audit,
      workspace: input.workspace,
      provider: LINEAR,
      userId: input.userId,
      grant: {
        authType: 'api_key',
        accessToken: input.apiKey,
        refreshToken: null,
        expiresIn: null,
        scopes: null,
        externalWorkspaceId: organization.id,
        externalWorkspaceName: organization.name,
      },
    });
  }

  authorizeUrl(state: string): URL | null {
    const { config } = this.deps;
    if (!config.LINEAR_CLIENT_ID || !config.LINEAR_OAUTH_REDIRECT_URI) return null;
    const url = new URL(config.LINEAR_OAUTH_AUTHORIZE_URL);
    url.searchParams.set('client_id', config.LINEAR_CLIENT_ID);
    url.searchParams.set('redirect_uri', config.LINEAR_OAUTH_REDIRECT_URI);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('state', state);
    // `admin` is what allows webhookCreate/webhookDelete.
    url.searchParams.set('scope', 'read,admin');
    url.searchParams.set('prompt', 'consent');
    return url;
  }

  async exchange(code: string): Promise<ConnectionGrant> {
    const { config } = this.deps;
    if (
      !config.LINEAR_CLIENT_ID ||
      !config.LINEAR_CLIENT_SECRET ||
      !config.LINEAR_OAUTH_REDIRECT_URI
    )
      throw badRequest('Linear OAuth is not configured on this server.');
    let tokens: Awaited<ReturnType<typeof exchangeLinearCode>>;
    let organization: { id: string; name: string };
    try {
      tokens = await exchangeLinearCode({
        tokenUrl: config.LINEAR_OAUTH_TOKEN_URL,
        clientId: config.LINEAR_CLIENT_ID,
        clientSecret: config.LINEAR_CLIENT_SECRET,
        redirectUri: config.LINEAR_OAUTH_REDIRECT_URI,
        code,
      });
      organization = await fetchLinearOrganization(
        this.deps.clients.forCredentials({ authType: 'oauth', token: tokens.accessToken }),
      );
    } catch (err) {
      throw providerFailure(
        LINEAR_NAME,
        err,
        isLinearAuthError(err) || /token endpoint answered 4/.test(String(err)),
      );
    }
    return {
      authType: 'oauth',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresIn: tokens.expiresIn,
      scopes: tokens.scope,
      externalWorkspaceId: organization.id,
      externalWorkspaceName: organization.name,
    };
  }

  /** The connection's webhooks and what needs each (the settings view's `webhooks`). */
  async webhookStatuses(connection: IntegrationConnectionRow): Promise<WebhookStatus[]> {
    const { db } = this.deps;
    const teamNames = new Map(
      (await listLinks(db, connection.id)).map((l) => [l.teamId, l.teamName]),
    );
    const webhooks: WebhookStatus[] = [];
    for (const registration of await listRegistrations(db, connection.id)) {
      webhooks.push({
        teamId: registration.teamId,
        teamName: teamNames.get(registration.teamId) ?? null,
        status: registration.status,
        healthy: registration.status === 'active' && registration.lastError === null,
        needs: await listNeeds(db, registration.id),
        lastError: registration.lastError,
        lastErrorAt: registration.lastErrorAt,
      });
    }
    return webhooks;
  }

  async listTeams(workspace: Workspace): Promise<LinearTeam[]> {
    const connection = await this.deps.connections.requireConnection(workspace, LINEAR);
    try {
      return await listLinearTeams(this.deps.clients.forConnection(connection));
    } catch (err) {
      if (isLinearAuthError(err))
        await this.deps.connections.markAuthFailed(connection.id, AUTH_REJECTED);
      throw providerFailure(LINEAR_NAME, err, isLinearAuthError(err));
    }
  }

  async listLinks(workspace: Workspace): Promise<LinearTeamLinkRow[]> {
    const connection = await findConnection(this.deps.db, { provider: LINEAR, workspace });
    return connection ? listLinks(this.deps.db, connection.id) : [];
  }

  /** Links a container to a team (replacing an earlier team) and ensures the team's webhook. */
  async linkContainer(input: {
    workspace: Workspace;
    userId: string;
    containerId: string;
    teamId: string;
    /** Requested direction; default `two_way` when the connection can write. */
    sync?: LinkSync;
  }): Promise<LinkResult> {
    const { db } = this.deps;
    const connection = await this.deps.connections.requireConnection(input.workspace, LINEAR);
    if (
      !(await this.deps.containerGuard({
        workspace: input.workspace,
        containerId: input.containerId,
      }))
    )
      throw notFound('Container');
    const teams = await this.listTeams(input.workspace);
    const team = teams.find((t) => t.id === input.teamId);
    if (!team) throw badRequest('No such team in the connected Linear workspace.');
    const reason = `container:${input.containerId}`;
    const existing = await findLinkByContainer(db, input.containerId);
    if (existing && existing.connectionId !== connection.id) throw notFound('Container');
    const direction = linkDirection(connection, input.sync);
    let link = existing;
    if (!existing || existing.teamId !== team.id) {
      link = await db.transaction(async (tx) => {
        if (existing) await deleteLink(tx, existing.id);
        return insertLink(tx, {
          containerId: input.containerId,
          connectionId: connection.id,
          teamId: team.id,
          teamName: team.name,
          createdByUserId: input.userId,
          ...direction,
        });
      });
    } else if (
      input.sync !== undefined &&
      (existing.sync !== direction.sync || existing.syncReason !== direction.syncReason)
    ) {
      link = await updateLinkSync(db, existing.id, direction);
    }
    const registration = await this.deps.webhooks.ensure({
      connectionId: connection.id,
      teamId: team.id,
      reason,
    });
    if (existing && existing.teamId !== team.id)
      await this.deps.webhooks.release({
        connectionId: connection.id,
        teamId: existing.teamId,
        reason,
      });
    if (!link) throw notFound('Link');
    return {
      link,
      webhook: {
        teamId: registration.teamId,
        teamName: team.name,
        status: registration.status,
        healthy: registration.status === 'active' && registration.lastError === null,
        needs: [],
        lastError: registration.lastError,
        lastErrorAt: registration.lastErrorAt,
      },
    };
  }

  async unlinkContainer(input: { workspace: Workspace; containerId: string }): Promise<void> {
    const connection = await this.deps.connections.requireConnection(input.workspace, LINEAR);
    const link = await findLinkByContainer(this.deps.db, input.containerId);
    if (!link || link.connectionId !== connection.id) throw notFound('Link');
    await deleteLink(this.deps.db, link.id);
    await this.deps.webhooks.release({
      connectionId: connection.id,
      teamId: link.teamId,
      reason: `container:${input.containerId}`,
    });
  }

  async reconcile(workspace: Workspace): Promise<ReconcileReport> {
    const connection = await this.deps.connections.requireConnection(workspace, LINEAR);
    return this.deps.webhooks.reconcileConnection(connection.id);
  }
}
