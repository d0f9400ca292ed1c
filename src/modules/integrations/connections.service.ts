import { createHash, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Db } from '../../db/database.ts';
import { type AppError, badRequest, conflict, notFound } from '../../http/errors.ts';
import { safeEqual } from '../../http/safe-equal.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import {
  integrationNotConnected,
  providerRejected,
  providerUnavailable,
} from './integrations.errors.ts';
import {
  consumeOauthState,
  deleteConnection,
  deleteLink,
  findConnection,
  findLinkByContainer,
  insertConnection,
  insertLink,
  insertOauthState,
  lastInboxEventAt,
  listLinks,
  listNeeds,
  listRegistrations,
  updateConnection,
} from './integrations.repository.ts';
import type {
  ConnectionAuthType,
  IntegrationConnectionRow,
  IntegrationProvider,
  LinearTeamLinkRow,
} from './integrations.table.ts';
import {
  createLinearClient,
  exchangeLinearCode,
  fetchLinearOrganization,
  isLinearAuthError,
  type LinearTeam,
  listLinearTeams,
} from './linear-api.ts';
import type { LinearWebhookService, ReconcileReport } from './linear-webhooks.service.ts';
import {
  createNotionClient,
  exchangeNotionCode,
  fetchNotionWorkspace,
  isNotionAuthError,
} from './notion-api.ts';
import type { SecretBox } from './secret-box.ts';
import { SECRET_CONTEXT } from './secret-contexts.ts';

const OAUTH_STATE_TTL_MS = 10 * 60_000;

/** Whether a container may be linked from a workspace (the containers feature answers). */
export type ContainerGuard = (input: {
  workspace: Workspace;
  containerId: string;
}) => Promise<boolean>;

export interface ConnectionsDeps {
  db: Db;
  box: SecretBox;
  config: Config;
  log: FastifyBaseLogger;
  linearWebhooks: LinearWebhookService;
  onChange(): void;
  containerGuard: ContainerGuard;
}

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

export interface ConnectionStatus {
  connection: IntegrationConnectionRow;
  lastEventAt: Date | null;
  webhooks: WebhookStatus[];
}

export interface LinkResult {
  link: LinearTeamLinkRow;
  webhook: WebhookStatus;
}

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

function providerFailure(provider: string, err: unknown, authIsUser: boolean): AppError {
  if (authIsUser) return providerRejected(provider, 'the credentials were rejected.');
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return providerRejected(provider, 'the request was rejected.');
  return providerUnavailable(provider);
}

/** Connecting, inspecting and disconnecting providers, and linking containers to Linear teams. */
export class ConnectionsService {
  constructor(private readonly deps: ConnectionsDeps) {}

  // --- reading --------------------------------------------------------------------------

  async status(
    workspace: Workspace,
    provider: IntegrationProvider,
  ): Promise<ConnectionStatus | null> {
    const connection = await findConnection(this.deps.db, { provider, workspace });
    if (!connection) return null;
    const lastEventAt = await lastInboxEventAt(this.deps.db, connection.id);
    const webhooks: WebhookStatus[] = [];
    if (provider === 'linear') {
      const teamNames = new Map(
        (await listLinks(this.deps.db, connection.id)).map((l) => [l.teamId, l.teamName]),
      );
      for (const registration of await listRegistrations(this.deps.db, connection.id)) {
        webhooks.push({
          teamId: registration.teamId,
          teamName: teamNames.get(registration.teamId) ?? null,
          status: registration.status,
          healthy: registration.status === 'active' && registration.lastError === null,
          needs: await listNeeds(this.deps.db, registration.id),
          lastError: registration.lastError,
          lastErrorAt: registration.lastErrorAt,
        });
      }
    }
    return { connection, lastEventAt, webhooks };
  }

  async requireConnection(
    workspace: Workspace,
    provider: IntegrationProvider,
  ): Promise<IntegrationConnectionRow> {
    const connection = await findConnection(this.deps.db, { provider, workspace });
    if (!connection) throw integrationNotConnected(provider === 'linear' ? 'Linear' : 'Notion');
    return connection;
  }

  accessToken(connection: IntegrationConnectionRow): string {
    return this.deps.box.open(connection.accessTokenEnc, SECRET_CONTEXT.accessToken);
  }

  // --- saving a connection ----------------------------------------------------------------

  async #save(input: {
    workspace: Workspace;
    provider: IntegrationProvider;
    userId: string;
    authType: ConnectionAuthType;
    accessToken: string;
    refreshToken: string | null;
    expiresIn: number | null;
    scopes: string | null;
    externalWorkspaceId: string;
    externalWorkspaceName: string | null;
  }): Promise<IntegrationConnectionRow> {
    const { box } = this.deps;
    const values = {
      connectedByUserId: input.userId,
      authType: input.authType,
      accessTokenEnc: box.seal(input.accessToken, SECRET_CONTEXT.accessToken),
      refreshTokenEnc: input.refreshToken
        ? box.seal(input.refreshToken, SECRET_CONTEXT.refreshToken)
        : null,
      tokenExpiresAt: input.expiresIn ? new Date(Date.now() + input.expiresIn * 1000) : null,
      scopes: input.scopes,
      externalWorkspaceId: input.externalWorkspaceId,
      externalWorkspaceName: input.externalWorkspaceName,
      status: 'active' as const,
      lastError: null,
      lastErrorAt: null,
    };
    const saved = await this.deps.db.transaction(async (tx) => {
      const existing = await findConnection(tx, input);
      if (existing) {
        // Team links and webhooks belong to one provider workspace; moving them silently to
        // another would point containers at teams that do not exist there.
        if (
          existing.externalWorkspaceId &&
          existing.externalWorkspaceId !== input.externalWorkspaceId
        )
          throw conflict(
            'This workspace is connected to another provider workspace; disconnect it first.',
          );
        const updated = await updateConnection(tx, existing.id, values);
        if (!updated) throw notFound('Connection');
        return updated;
      }
      return insertConnection(tx, {
        ...values,
        provider: input.provider,
        ...input.workspace,
      });
    });
    this.deps.onChange();
    return saved;
  }

  // --- Linear ---------------------------------------------------------------------------------

  async connectLinearApiKey(input: {
    workspace: Workspace;
    userId: string;
    apiKey: string;
  }): Promise<IntegrationConnectionRow> {
    const client = createLinearClient(this.deps.config.LINEAR_API_URL, {
      authType: 'api_key',
      token: input.apiKey,
    });
    let organization: { id: string; name: string };
    try {
      organization = await fetchLinearOrganization(client);
    } catch (err) {
      throw providerFailure('Linear', err, isLinearAuthError(err));
    }
    return this.#save({
      workspace: input.workspace,
      provider: 'linear',
      userId: input.userId,
      authType: 'api_key',
      accessToken: input.apiKey,
      refreshToken: null,
      expiresIn: null,
      scopes: null,
      externalWorkspaceId: organization.id,
      externalWorkspaceName: organization.name,
    });
  }

  async startOAuth(input: {
    provider: IntegrationProvider;
    workspace: Workspace;
    userId: string;
  }): Promise<{ authorizeUrl: string; state: string; expiresAt: Date }> {
    const { config } = this.deps;
    const clientId =
      input.provider === 'linear' ? config.LINEAR_CLIENT_ID : config.NOTION_CLIENT_ID;
    const redirectUri =
      input.provider === 'linear'
        ? config.LINEAR_OAUTH_REDIRECT_URI
        : config.NOTION_OAUTH_REDIRECT_URI;
    if (!clientId || !redirectUri)
      throw badRequest(
        `${input.provider === 'linear' ? 'Linear' : 'Notion'} OAuth is not configured on this server.`,
      );
    const state = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + OAUTH_STATE_TTL_MS);
    await insertOauthState(this.deps.db, {
      stateHash: hashState(state),
      provider: input.provider,
      userId: input.userId,
      organisationId: input.workspace.organisationId,
      expiresAt,
    });
    const url =
      input.provider === 'linear'
        ? new URL(config.LINEAR_OAUTH_AUTHORIZE_URL)
        : new URL('/v1/oauth/authorize', config.NOTION_API_URL);
    url.searchParams.set('client_id', clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('state', state);
    if (input.provider === 'linear') {
      // `admin` is what allows webhookCreate/webhookDelete.
      url.searchParams.set('scope', 'read,admin');
      url.searchParams.set('prompt', 'consent');
    } else {
      url.searchParams.set('owner', 'user');
    }
    return { authorizeUrl: url.toString(), state, expiresAt };
  }

  /**
   * The state is single use, expires after 10 minutes and is bound to the user and the
   * workspace that started the flow: a code delivered to anyone else's session is refused.
   */
  async #checkState(input: {
    provider: IntegrationProvider;
    workspace: Workspace;
    userId: string;
    state: string;
  }): Promise<void> {
    const row = await consumeOauthState(this.deps.db, hashState(input.state));
    const organisationId = input.workspace.organisationId;
    if (
      !row ||
      row.provider !== input.provider ||
      row.userId !== input.userId ||
      row.organisationId !== organisationId ||
      row.expiresAt.getTime() < Date.now()
    )
      throw badRequest('The OAuth state is invalid or expired; start the connection again.');
  }

  async completeLinearOAuth(input: {
    workspace: Workspace;
    userId: string;
    code: string;
    state: string;
  }): Promise<IntegrationConnectionRow> {
    await this.#checkState({ ...input, provider: 'linear' });
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
        code: input.code,
      });
      organization = await fetchLinearOrganization(
        createLinearClient(config.LINEAR_API_URL, { authType: 'oauth', token: tokens.accessToken }),
      );
    } catch (err) {
      throw providerFailure(
        'Linear',
        err,
        isLinearAuthError(err) || /token endpoint answered 4/.test(String(err)),
      );
    }
    return this.#save({
      workspace: input.workspace,
      provider: 'linear',
      userId: input.userId,
      authType: 'oauth',
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresIn: tokens.expiresIn,
      scopes: tokens.scope,
      externalWorkspaceId: organization.id,
      externalWorkspaceName: organization.name,
    });
  }

  async listTeams(workspace: Workspace): Promise<LinearTeam[]> {
    const connection = await this.requireConnection(workspace, 'linear');
    try {
      return await listLinearTeams(this.linearClient(connection));
    } catch (err) {
      if (isLinearAuthError(err))
        await updateConnection(this.deps.db, connection.id, {
          status: 'error',
          lastError: 'Linear rejected the credentials; reconnect Linear.',
          lastErrorAt: new Date(),
        });
      throw providerFailure('Linear', err, isLinearAuthError(err));
    }
  }

  linearClient(connection: IntegrationConnectionRow) {
    return createLinearClient(this.deps.config.LINEAR_API_URL, {
      authType: connection.authType === 'oauth' ? 'oauth' : 'api_key',
      token: this.accessToken(connection),
    });
  }

  async listLinks(workspace: Workspace): Promise<LinearTeamLinkRow[]> {
    const connection = await findConnection(this.deps.db, { provider: 'linear', workspace });
    return connection ? listLinks(this.deps.db, connection.id) : [];
  }

  /** Links a container to a team (replacing an earlier team) and ensures the team's webhook. */
  async linkContainer(input: {
    workspace: Workspace;
    userId: string;
    containerId: string;
    teamId: string;
  }): Promise<LinkResult> {
    const connection = await this.requireConnection(input.workspace, 'linear');
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
    const existing = await findLinkByContainer(this.deps.db, input.containerId);
    if (existing && existing.connectionId !== connection.id) throw notFound('Container');
    let link = existing;
    if (!existing || existing.teamId !== team.id) {
      link = await this.deps.db.transaction(async (tx) => {
        if (existing) await deleteLink(tx, existing.id);
        return insertLink(tx, {
          containerId: input.containerId,
          connectionId: connection.id,
          teamId: team.id,
          teamName: team.name,
          createdByUserId: input.userId,
        });
      });
    }
    const registration = await this.deps.linearWebhooks.ensure({
      connectionId: connection.id,
      teamId: team.id,
      reason,
    });
    if (existing && existing.teamId !== team.id)
      await this.deps.linearWebhooks.release({
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
    const connection = await this.requireConnection(input.workspace, 'linear');
    const link = await findLinkByContainer(this.deps.db, input.containerId);
    if (!link || link.connectionId !== connection.id) throw notFound('Link');
    await deleteLink(this.deps.db, link.id);
    await this.deps.linearWebhooks.release({
      connectionId: connection.id,
      teamId: link.teamId,
      reason: `container:${input.containerId}`,
    });
  }

  async reconcile(workspace: Workspace): Promise<ReconcileReport> {
    const connection = await this.requireConnection(workspace, 'linear');
    return this.deps.linearWebhooks.reconcileConnection(connection.id);
  }

  // --- Notion ---------------------------------------------------------------------------------

  async connectNotionToken(input: {
    workspace: Workspace;
    userId: string;
    token: string;
  }): Promise<IntegrationConnectionRow> {
    let notionWorkspace: Awaited<ReturnType<typeof fetchNotionWorkspace>>;
    try {
      notionWorkspace = await fetchNotionWorkspace(
        createNotionClient(this.deps.config.NOTION_API_URL, input.token),
      );
    } catch (err) {
      throw providerFailure('Notion', err, isNotionAuthError(err));
    }
    return this.#save({
      workspace: input.workspace,
      provider: 'notion',
      userId: input.userId,
      authType: 'internal_token',
      accessToken: input.token,
      refreshToken: null,
      expiresIn: null,
      scopes: null,
      externalWorkspaceId: notionWorkspace.workspaceId,
      externalWorkspaceName: notionWorkspace.workspaceName,
    });
  }

  async completeNotionOAuth(input: {
    workspace: Workspace;
    userId: string;
    code: string;
    state: string;
  }): Promise<IntegrationConnectionRow> {
    await this.#checkState({ ...input, provider: 'notion' });
    const { config } = this.deps;
    if (
      !config.NOTION_CLIENT_ID ||
      !config.NOTION_CLIENT_SECRET ||
      !config.NOTION_OAUTH_REDIRECT_URI
    )
      throw badRequest('Notion OAuth is not configured on this server.');
    let result: Awaited<ReturnType<typeof exchangeNotionCode>>;
    try {
      result = await exchangeNotionCode({
        baseUrl: config.NOTION_API_URL,
        clientId: config.NOTION_CLIENT_ID,
        clientSecret: config.NOTION_CLIENT_SECRET,
        redirectUri: config.NOTION_OAUTH_REDIRECT_URI,
        code: input.code,
      });
    } catch (err) {
      throw providerFailure('Notion', err, isNotionAuthError(err));
    }
    return this.#save({
      workspace: input.workspace,
      provider: 'notion',
      userId: input.userId,
      authType: 'oauth',
      accessToken: result.accessToken,
      refreshToken: result.refreshToken,
      expiresIn: null,
      scopes: null,
      externalWorkspaceId: result.workspaceId,
      externalWorkspaceName: result.workspaceName,
    });
  }

  notionWebhookUrl(connection: IntegrationConnectionRow): string | null {
    const base = this.deps.config.PUBLIC_BASE_URL;
    if (!base) return null;
    const url = new URL('/webhooks/notion', base);
    url.searchParams.set('connection', connection.id);
    return url.toString();
  }

  pendingNotionToken(connection: IntegrationConnectionRow): string | null {
    return connection.notionPendingTokenEnc
      ? this.deps.box.open(connection.notionPendingTokenEnc, SECRET_CONTEXT.notionVerificationToken)
      : null;
  }

  /**
   * An admin confirms the pending handshake token by echoing it (so a token swapped in by
   * someone else after the admin looked is not confirmed by mistake). Only then does it sign
   * events; a later handshake becomes pending again and never replaces it on its own.
   */
  async confirmNotionVerification(input: {
    workspace: Workspace;
    verificationToken: string;
  }): Promise<IntegrationConnectionRow> {
    const connection = await this.requireConnection(input.workspace, 'notion');
    const pending = this.pendingNotionToken(connection);
    if (!pending || !safeEqual(pending, input.verificationToken))
      throw conflict('No pending verification token matches; check the token shown in settings.');
    const updated = await updateConnection(this.deps.db, connection.id, {
      notionVerificationTokenEnc: connection.notionPendingTokenEnc,
      notionVerifiedAt: new Date(),
      notionPendingTokenEnc: null,
      notionPendingReceivedAt: null,
    });
    this.deps.onChange();
    if (!updated) throw notFound('Connection');
    return updated;
  }

  // --- disconnect ----------------------------------------------------------------------------

  /** Deletes the provider's webhooks (Linear), then the connection, its tokens and its links. */
  async disconnect(workspace: Workspace, provider: IntegrationProvider): Promise<void> {
    const connection = await this.requireConnection(workspace, provider);
    if (provider === 'linear') await this.deps.linearWebhooks.removeAll(connection);
    await deleteConnection(this.deps.db, connection.id);
    this.deps.onChange();
  }
}
