import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.ts';
import { type AppError, badRequest, conflict, notFound } from '../../http/errors.ts';
import { recordRequested, type SecurityContext } from '../security-log/security-log.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import {
  BudgetExhausted,
  ConnectionGone,
  lifecycleFailure,
  ReauthorizationRequired,
} from './connection-errors.ts';
import type {
  ConnectionGrant,
  ConnectionProvider,
  ConnectionViewer,
} from './integration.provider.ts';
import {
  integrationNotConnected,
  providerRejected,
  providerUnavailable,
  reauthorizationRequired,
} from './integrations.errors.ts';
import {
  consumeOauthState,
  deleteConnection,
  findConnection,
  insertConnection,
  insertOauthState,
  updateConnection,
} from './integrations.repository.ts';
import type { IntegrationConnectionRow, ProviderId } from './integrations.table.ts';
import type { SecretBox } from './secret-box.ts';
import { SECRET_CONTEXT } from './secret-contexts.ts';

const OAUTH_STATE_TTL_MS = 10 * 60_000;

export interface ConnectionsDeps {
  db: Db;
  box: SecretBox;
  /** The registry's providers (read when needed: the registry is built after this service). */
  providers(): readonly ConnectionProvider[];
  /** Called after a connection changes (drops the intake's cached secrets). */
  onChange(): void;
  /** Looks up the time of the connection's latest inbox event (the inbox answers). */
  lastEventAt(connectionId: string): Promise<Date | null>;
  /**
   * A connection waiting for reauthorization was reconnected: its stored events can be
   * processed now (the inbox makes them due and wakes its worker).
   */
  onReauthorized?(connectionId: string): Promise<void>;
}

export interface ConnectionStatus {
  connection: IntegrationConnectionRow;
  lastEventAt: Date | null;
  /** The provider's own fields of the view. */
  extra: Record<string, unknown>;
}

const hashState = (state: string) => createHash('sha256').update(state).digest('hex');

/**
 * A provider call failed. The provider's own answers are never the client's fault (not 400):
 * - the stored connection's credentials were refused, now or earlier → 409
 *   `reauthorization_required` (an admin reconnects);
 * - the provider refused the credentials being connected, or the request, or failed (4xx,
 *   5xx), or its rate limit is exhausted past the interactive wait → 502 (with Retry-After
 *   for a rate limit);
 * - it could not be reached at all (network, timeout) → 503.
 * `authIsUser`: the credentials were refused (a key or code being connected).
 */
export function providerFailure(displayName: string, err: unknown, authIsUser: boolean): AppError {
  const lifecycle = lifecycleFailure(err);
  if (lifecycle instanceof ReauthorizationRequired)
    return reauthorizationRequired(displayName, lifecycle.reason);
  if (lifecycle instanceof BudgetExhausted) {
    const seconds = Math.max(1, Math.ceil((lifecycle.retryAt - Date.now()) / 1000));
    return providerRejected(displayName, `the rate limit is exhausted; retry in ${seconds} s.`, {
      'retry-after': String(seconds),
    });
  }
  if (lifecycle instanceof ConnectionGone) return integrationNotConnected(displayName);
  if (authIsUser) return providerRejected(displayName, 'the credentials were rejected.');
  // Any answer (a 4xx, a 5xx, or a 200 carrying GraphQL errors) is the provider failing.
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number')
    return providerRejected(
      displayName,
      status >= 400 ? `the request was refused (${status}).` : 'the request failed.',
    );
  return providerUnavailable(displayName);
}

/** Connecting, inspecting and disconnecting providers: the parts every provider shares. */
export class ConnectionsService {
  constructor(private readonly deps: ConnectionsDeps) {}

  provider(id: ProviderId): ConnectionProvider {
    const provider = this.deps.providers().find((p) => p.id === id);
    if (!provider) throw notFound('Provider');
    return provider;
  }

  async status(
    workspace: Workspace,
    provider: ProviderId,
    viewer: ConnectionViewer,
  ): Promise<ConnectionStatus | null> {
    const connection = await findConnection(this.deps.db, { provider, workspace });
    if (!connection) return null;
    const lastEventAt = await this.deps.lastEventAt(connection.id);
    return {
      connection,
      lastEventAt,
      extra: await this.provider(provider).view(connection, viewer),
    };
  }

  async requireConnection(
    workspace: Workspace,
    provider: ProviderId,
  ): Promise<IntegrationConnectionRow> {
    const connection = await findConnection(this.deps.db, { provider, workspace });
    if (!connection) throw integrationNotConnected(this.provider(provider).displayName);
    return connection;
  }

  accessToken(connection: IntegrationConnectionRow): string {
    return this.deps.box.open(connection.accessTokenEnc, SECRET_CONTEXT.accessToken);
  }

  /** Saves (creates or replaces) the workspace's connection to a provider. */
  async save(input: {
    workspace: Workspace;
    provider: ProviderId;
    userId: string;
    grant: ConnectionGrant;
    /** Who asks, from where (settings requests): recorded in the security log. */
    audit?: SecurityContext | undefined;
  }): Promise<IntegrationConnectionRow> {
    const { box } = this.deps;
    const { grant } = input;
    const values = {
      connectedByUserId: input.userId,
      authType: grant.authType,
      accessTokenEnc: box.seal(grant.accessToken, SECRET_CONTEXT.accessToken),
      refreshTokenEnc: grant.refreshToken
        ? box.seal(grant.refreshToken, SECRET_CONTEXT.refreshToken)
        : null,
      tokenExpiresAt: grant.expiresIn ? new Date(Date.now() + grant.expiresIn * 1000) : null,
      tokenIssuedAt: new Date(),
      scopes: grant.scopes,
      externalWorkspaceId: grant.externalWorkspaceId,
      externalWorkspaceName: grant.externalWorkspaceName,
      status: 'active' as const,
      lastError: null,
      lastErrorAt: null,
    };
    let reauthorized = false;
    const saved = await this.deps.db.transaction(async (tx) => {
      const existing = await findConnection(tx, input);
      reauthorized = existing?.status === 'reauthorization_required';
      if (existing) {
        // Team links and webhooks belong to one provider workspace; moving them silently to
        // another would point containers at teams that do not exist there.
        if (
          existing.externalWorkspaceId &&
          existing.externalWorkspaceId !== grant.externalWorkspaceId
        )
          throw conflict(
            'This workspace is connected to another provider workspace; disconnect it first.',
          );
        const updated = await updateConnection(tx, existing.id, values);
        if (!updated) throw notFound('Connection');
        await recordRequested(tx, input.audit, {
          action: 'connection.reauthorized',
          target: { type: 'connection', id: updated.id },
          organisationId: input.workspace.organisationId,
          details: { provider: input.provider },
        });
        return updated;
      }
      const created = await insertConnection(tx, {
        ...values,
        provider: input.provider,
        ...input.workspace,
      });
      await recordRequested(tx, input.audit, {
        action: 'connection.connected',
        target: { type: 'connection', id: created.id },
        organisationId: input.workspace.organisationId,
        details: { provider: input.provider },
      });
      return created;
    });
    this.deps.onChange();
    if (reauthorized) await this.deps.onReauthorized?.(saved.id);
    await this.provider(input.provider).afterConnect?.(saved);
    return saved;
  }

  /** Records that the provider refused the connection's credentials (an admin must reconnect). */
  async markAuthFailed(connectionId: string, message: string): Promise<void> {
    await updateConnection(this.deps.db, connectionId, {
      status: 'reauthorization_required',
      lastError: message,
      lastErrorAt: new Date(),
    });
  }

  async update(
    connectionId: string,
    patch: Parameters<typeof updateConnection>[2],
  ): Promise<IntegrationConnectionRow> {
    const updated = await updateConnection(this.deps.db, connectionId, patch);
    this.deps.onChange();
    if (!updated) throw notFound('Connection');
    return updated;
  }

  async startOAuth(input: {
    provider: ProviderId;
    workspace: Workspace;
    userId: string;
  }): Promise<{ authorizeUrl: string; state: string; expiresAt: Date }> {
    const provider = this.provider(input.provider);
    const state = randomBytes(32).toString('base64url');
    const url = provider.oauth?.authorizeUrl(state);
    if (!url) throw badRequest(`${provider.displayName} OAuth is not configured on this server.`);
    const expiresAt = new Date(Date.now() + OAUTH_STATE_TTL_MS);
    await insertOauthState(this.deps.db, {
      stateHash: hashState(state),
      provider: input.provider,
      userId: input.userId,
      organisationId: input.workspace.organisationId,
      expiresAt,
    });
    return { authorizeUrl: url.toString(), state, expiresAt };
  }

  /**
   * The state is single use, expires after 10 minutes and is bound to the user and the
   * workspace that started the flow: a code delivered to anyone else's session is refused,
   * and that attempt does not consume the state (its owner can still finish).
   */
  async #checkState(input: {
    provider: ProviderId;
    workspace: Workspace;
    userId: string;
    state: string;
  }): Promise<void> {
    const row = await consumeOauthState(this.deps.db, {
      stateHash: hashState(input.state),
      provider: input.provider,
      userId: input.userId,
      organisationId: input.workspace.organisationId,
    });
    if (!row || row.expiresAt.getTime() < Date.now())
      throw badRequest('The OAuth state is invalid or expired; start the connection again.');
  }

  async completeOAuth(input: {
    provider: ProviderId;
    workspace: Workspace;
    userId: string;
    code: string;
    state: string;
    audit?: SecurityContext;
  }): Promise<IntegrationConnectionRow> {
    await this.#checkState(input);
    const provider = this.provider(input.provider);
    if (!provider.oauth)
      throw badRequest(`${provider.displayName} OAuth is not configured on this server.`);
    const grant = await provider.oauth.exchange(input.code, input.state);
    return this.save({ ...input, grant });
  }

  /** Deletes the provider's side (its webhooks), then the connection, its tokens and links. */
  async disconnect(
    workspace: Workspace,
    provider: ProviderId,
    audit?: SecurityContext,
  ): Promise<void> {
    const connection = await this.requireConnection(workspace, provider);
    await this.provider(provider).beforeDisconnect?.(connection);
    await this.deps.db.transaction(async (tx) => {
      await deleteConnection(tx, connection.id);
      await recordRequested(tx, audit, {
        action: 'connection.disconnected',
        target: { type: 'connection', id: connection.id },
        organisationId: workspace.organisationId,
        details: { provider },
      });
    });
    this.deps.onChange();
  }
}
