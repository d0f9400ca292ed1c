import type { Client } from '@notionhq/client';
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/database.ts';
import { badRequest, conflict } from '../../../http/errors.ts';
import { safeEqual } from '../../../http/safe-equal.ts';
import {
  type ConnectionsService,
  providerFailure,
} from '../../integrations/connections.service.ts';
import type { ConnectionGrant } from '../../integrations/integration.provider.ts';
import { findConnectionById } from '../../integrations/integrations.repository.ts';
import type { IntegrationConnectionRow } from '../../integrations/integrations.table.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import { SECRET_CONTEXT } from '../../integrations/secret-contexts.ts';
import type { SecurityContext } from '../../security-log/security-log.ts';
import type { Workspace } from '../../workspaces/workspace.context.ts';
import { NOTION } from './notion.id.ts';
import {
  createNotionClient,
  exchangeNotionCode,
  fetchNotionWorkspace,
  isNotionAuthError,
} from './notion-api.ts';
import type { NotionCallPath } from './notion-call-path.ts';

export const NOTION_NAME = 'Notion';

const noPendingToken = {
  notionPendingTokenEnc: null,
  notionPendingReceivedAt: null,
  notionPendingFrom: null,
};

/** Connecting Notion, the webhook subscription's handshake, and Notion clients. */
export class NotionConnectService {
  constructor(
    private readonly deps: {
      db: Db;
      box: SecretBox;
      config: Config;
      connections: ConnectionsService;
      callPath: NotionCallPath;
    },
  ) {}

  /** The one place Notion clients come from (every Notion call goes through one). */
  client(token: string): Client {
    return createNotionClient(this.deps.config.NOTION_API_URL, token);
  }

  /**
   * A client for a stored connection (the call path: shared pacing, token refresh); undefined
   * when it is gone or not Notion's. Background callers (the inbox worker) wait longer.
   */
  async clientFor(connectionId: string): Promise<Client | undefined> {
    const connection = await findConnectionById(this.deps.db, connectionId);
    if (connection?.provider !== NOTION) return undefined;
    return this.deps.callPath.client(connectionId, {
      maxWaitMs: this.deps.config.PROVIDER_BACKGROUND_MAX_WAIT_MS,
    });
  }

  async connectToken(input: {
    workspace: Workspace;
    userId: string;
    token: string;
    audit?: SecurityContext;
  }): Promise<IntegrationConnectionRow> {
    let notionWorkspace: Awaited<ReturnType<typeof fetchNotionWorkspace>>;
    try {
      notionWorkspace = await fetchNotionWorkspace(this.client(input.token));
    } catch (err) {
      throw providerFailure(NOTION_NAME, err, isNotionAuthError(err));
    }
    return this.deps.connections.save({
      audit: input.audit,
      workspace: input.workspace,
      provider: NOTION,
      userId: input.userId,
      grant: {
        authType: 'internal_token',
        accessToken: input.token,
        refreshToken: null,
        expiresIn: null,
        scopes: null,
        externalWorkspaceId: notionWorkspace.workspaceId,
        externalWorkspaceName: notionWorkspace.workspaceName,
      },
    });
  }

  authorizeUrl(state: string): URL | null {
    const { config } = this.deps;
    if (!config.NOTION_CLIENT_ID || !config.NOTION_OAUTH_REDIRECT_URI) return null;
    const url = new URL('/v1/oauth/authorize', config.NOTION_API_URL);
    url.searchParams.set('client_id', config.NOTION_CLIENT_ID);
    url.searchParams.set('redirect_uri', config.NOTION_OAUTH_REDIRECT_URI);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('state', state);
    url.searchParams.set('owner', 'user');
    return url;
  }

  async exchange(code: string): Promise<ConnectionGrant> {
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
        code,
      });
    } catch (err) {
      throw providerFailure(NOTION_NAME, err, isNotionAuthError(err));
    }
    return {
      authType: 'oauth',
      accessToken: result.accessToken,
      refreshToken: result.refreshToken,
      expiresIn: result.expiresIn,
      scopes: null,
      externalWorkspaceId: result.workspaceId,
      externalWorkspaceName: result.workspaceName,
    };
  }

  webhookUrl(connection: IntegrationConnectionRow): string | null {
    const base = this.deps.config.PUBLIC_BASE_URL;
    if (!base) return null;
    const url = new URL('/webhooks/notion', base);
    url.searchParams.set('connection', connection.id);
    return url.toString();
  }

  pendingToken(connection: IntegrationConnectionRow): string | null {
    return connection.notionPendingTokenEnc
      ? this.deps.box.open(connection.notionPendingTokenEnc, SECRET_CONTEXT.notionVerificationToken)
      : null;
  }

  /**
   * An admin confirms the pending handshake token by echoing it (so a token swapped in by
   * someone else after the admin looked is not confirmed by mistake). Only then does it sign
   * events; a later handshake becomes pending again and never replaces it on its own.
   */
  async confirmVerification(input: {
    workspace: Workspace;
    verificationToken: string;
  }): Promise<IntegrationConnectionRow> {
    const connection = await this.deps.connections.requireConnection(input.workspace, NOTION);
    const pending = this.pendingToken(connection);
    if (!pending || !safeEqual(pending, input.verificationToken))
      throw conflict('No pending verification token matches; check the token shown in settings.');
    return this.deps.connections.update(connection.id, {
      notionVerificationTokenEnc: connection.notionPendingTokenEnc,
      notionVerifiedAt: new Date(),
      notionVerifiedReceivedAt: connection.notionPendingReceivedAt,
      notionVerifiedFrom: connection.notionPendingFrom,
      ...noPendingToken,
    });
  }

  /** An admin discards the pending token (not the one they expected): the next handshake may land. */
  async discardPending(workspace: Workspace): Promise<IntegrationConnectionRow> {
    const connection = await this.deps.connections.requireConnection(workspace, NOTION);
    return this.deps.connections.update(connection.id, noPendingToken);
  }
}
