import type { LinearClient } from '@linear/sdk';
import type { Client as NotionClient } from '@notionhq/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { ConnectionsService, type ContainerGuard } from './connections.service.ts';
import { findConnectionById } from './integrations.repository.ts';
import type { ConnectionAuthType, IntegrationProvider } from './integrations.table.ts';
import { createLinearClient } from './linear-api.ts';
import { LinearWebhookService } from './linear-webhooks.service.ts';
import { createNotionClient } from './notion-api.ts';
import { loadEncryptionKey, SecretBox } from './secret-box.ts';
import { SECRET_CONTEXT } from './secret-contexts.ts';
import { WebhookIntake } from './webhook-intake.service.ts';

/** NOTIFY channel announcing new inbox rows (coalesced, empty payload). */
export const INBOX_CHANNEL = 'inbox_events';

export interface ConnectionCredentials {
  connectionId: string;
  provider: IntegrationProvider;
  authType: ConnectionAuthType;
  /** The decrypted access token. Never log it. */
  accessToken: string;
  organisationId: string | null;
  userId: string | null;
}

/**
 * The integrations feature as other features see it (`app.integrations`):
 * - `intake`: the webhook routes' verifier and inbox writer;
 * - `connections`: settings operations;
 * - `linearWebhooks.ensure / release`: reference-counted Linear webhooks for automations;
 * - `credentials`, `linearClient`, `notionClient`: SDK clients for a connection.
 */
export class IntegrationsService {
  readonly box: SecretBox;
  readonly intake: WebhookIntake;
  readonly linearWebhooks: LinearWebhookService;
  readonly connections: ConnectionsService;
  #timer: NodeJS.Timeout | undefined;
  readonly #inboxListeners = new Set<(ids: string[]) => void>();
  #notifyTimer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly deps: {
      database: Database;
      config: Config;
      log: FastifyBaseLogger;
      containerGuard?: ContainerGuard;
    },
  ) {
    const { database, config, log } = deps;
    const key = loadEncryptionKey({
      encryptionKey: config.ENCRYPTION_KEY,
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      nodeEnv: config.NODE_ENV,
    });
    this.box = new SecretBox(key.key);
    this.intake = new WebhookIntake(database.db, this.box, (ids) => this.#signal(ids));
    const onChange = () => this.intake.invalidate();
    this.linearWebhooks = new LinearWebhookService({
      db: database.db,
      box: this.box,
      log,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      clientFor: (connection) => this.connections.linearClient(connection),
      onChange,
    });
    this.connections = new ConnectionsService({
      db: database.db,
      box: this.box,
      config,
      log,
      linearWebhooks: this.linearWebhooks,
      onChange,
      // Until the containers feature provides the check, any container id is accepted
      // (see docs/integrations.md, "Open points").
      containerGuard: deps.containerGuard ?? (async () => true),
    });
  }

  /**
   * In-process wake-up for the automation engine: `listener` gets the ids of inbox rows just
   * committed (after the commit, before or while the provider gets its 200). Returns an
   * unsubscribe function. Other processes get a coalesced `NOTIFY inbox_events` (payload
   * empty, at most one per 100 ms) and must poll as a safety net anyway.
   */
  onInboxEvents(listener: (ids: string[]) => void): () => void {
    this.#inboxListeners.add(listener);
    return () => this.#inboxListeners.delete(listener);
  }

  #signal(ids: string[]): void {
    for (const listener of this.#inboxListeners) {
      try {
        listener(ids);
      } catch (err) {
        this.deps.log.error({ err }, 'inbox listener failed');
      }
    }
    if (this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = undefined;
      this.deps.database
        .notify(INBOX_CHANNEL, '')
        .catch((err: unknown) => this.deps.log.warn({ err }, 'inbox notify failed'));
    }, 100);
    this.#notifyTimer.unref();
  }

  /** The decrypted credentials of a connection, or undefined when it no longer exists. */
  async credentials(connectionId: string): Promise<ConnectionCredentials | undefined> {
    const row = await findConnectionById(this.deps.database.db, connectionId);
    if (!row) return undefined;
    return {
      connectionId: row.id,
      provider: row.provider,
      authType: row.authType,
      accessToken: this.box.open(row.accessTokenEnc, SECRET_CONTEXT.accessToken),
      organisationId: row.organisationId,
      userId: row.userId,
    };
  }

  async linearClient(connectionId: string): Promise<LinearClient | undefined> {
    const c = await this.credentials(connectionId);
    if (c?.provider !== 'linear') return undefined;
    return createLinearClient(this.deps.config.LINEAR_API_URL, {
      authType: c.authType === 'oauth' ? 'oauth' : 'api_key',
      token: c.accessToken,
    });
  }

  async notionClient(connectionId: string): Promise<NotionClient | undefined> {
    const c = await this.credentials(connectionId);
    if (c?.provider !== 'notion') return undefined;
    return createNotionClient(this.deps.config.NOTION_API_URL, c.accessToken);
  }

  /** Runs the reconciler now and then every `LINEAR_RECONCILE_INTERVAL_MS` (0: only now). */
  startReconciler(): void {
    const run = () => {
      if (this.#running) return;
      this.#running = this.linearWebhooks
        .reconcileAll()
        .catch((err: unknown) => this.deps.log.warn({ err }, 'linear reconciler failed'))
        .finally(() => {
          this.#running = undefined;
        });
    };
    run();
    const interval = this.deps.config.LINEAR_RECONCILE_INTERVAL_MS;
    if (interval > 0) {
      this.#timer = setInterval(run, interval);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.#notifyTimer) clearTimeout(this.#notifyTimer);
    this.#notifyTimer = undefined;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
