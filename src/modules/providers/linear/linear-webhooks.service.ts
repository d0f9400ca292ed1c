import { randomBytes } from 'node:crypto';
import type { LinearClient } from '@linear/sdk';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Executor } from '../../../db/database.ts';
import {
  listConnections,
  lockConnection,
  updateConnection,
} from '../../integrations/integrations.repository.ts';
import type { IntegrationConnectionRow } from '../../integrations/integrations.table.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import { SECRET_CONTEXT } from '../../integrations/secret-contexts.ts';
import { LINEAR } from './linear.id.ts';
import {
  addNeed,
  countNeeds,
  deleteRegistration,
  findRegistration,
  findRegistrationByProviderWebhookId,
  insertRegistration,
  listRegistrations,
  pruneStaleContainerNeeds,
  removeNeed,
  updateRegistration,
} from './linear.repository.ts';
import type { LinearWebhookRegistrationRow } from './linear.table.ts';
import {
  createLinearWebhook,
  deleteLinearWebhook,
  isLinearAuthError,
  LINEAR_WEBHOOK_LABEL,
  listLinearWebhooks,
} from './linear-api.ts';

export interface LinearWebhookDeps {
  db: Db;
  box: SecretBox;
  log: FastifyBaseLogger;
  /** `PUBLIC_BASE_URL`; webhooks cannot be registered without it. */
  publicBaseUrl: string | undefined;
  clientFor(connection: IntegrationConnectionRow): LinearClient;
  /** Called after registrations change (drops cached webhook secrets). */
  onChange(): void;
}

export interface ReconcileReport {
  connectionId: string;
  created: number;
  deleted: number;
  orphansDeleted: number;
  error: string | null;
}

function errorText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // Provider errors can echo request details; keep the first line, bounded.
  return (message.split('\n')[0] ?? '').slice(0, 300);
}

/**
 * One Linear webhook per (connection, team), reference-counted by *needs* (a container link,
 * an automation). `ensure` registers it on the first need; `release` deletes it at Linear when
 * the last need goes. Changes for one connection are serialised by locking its row, so two
 * concurrent `ensure` calls never create two webhooks. Provider calls happen inside that
 * transaction on purpose: these are rare settings operations, and the lock is what keeps
 * Linear and the table in step.
 */
export class LinearWebhookService {
  constructor(private readonly deps: LinearWebhookDeps) {}

  webhookUrl(): string | undefined {
    return this.deps.publicBaseUrl
      ? new URL('/webhooks/linear', this.deps.publicBaseUrl).toString()
      : undefined;
  }

  /** Adds `reason` to the team's webhook needs, registering the webhook if needed. */
  async ensure(input: {
    connectionId: string;
    teamId: string;
    reason: string;
  }): Promise<LinearWebhookRegistrationRow> {
    const result = await this.deps.db.transaction(async (tx) => {
      const connection = await lockConnection(tx, input.connectionId);
      if (connection?.provider !== LINEAR) throw new Error('not a Linear connection');
      let registration = await findRegistration(tx, input);
      if (!registration) {
        registration = await insertRegistration(tx, {
          connectionId: input.connectionId,
          teamId: input.teamId,
          secretEnc: this.deps.box.seal(
            randomBytes(32).toString('hex'),
            SECRET_CONTEXT.linearWebhookSecret,
          ),
          status: 'missing',
        });
      }
      await addNeed(tx, { registrationId: registration.id, reason: input.reason });
      if (registration.status !== 'active') {
        registration = await this.#register(tx, connection, registration);
      }
      return registration;
    });
    this.deps.onChange();
    return result;
  }

  /** Removes `reason`; deletes the webhook (at Linear and here) when nothing needs it. */
  async release(input: { connectionId: string; teamId: string; reason: string }): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const connection = await lockConnection(tx, input.connectionId);
      if (!connection) return;
      const registration = await findRegistration(tx, input);
      if (!registration) return;
      await removeNeed(tx, { registrationId: registration.id, reason: input.reason });
      if ((await countNeeds(tx, registration.id)) > 0) return;
      await this.#unregister(connection, registration);
      await deleteRegistration(tx, registration.id);
    });
    this.deps.onChange();
  }

  /** Deletes every webhook of the connection at Linear (disconnect); failures are logged. */
  async removeAll(connection: IntegrationConnectionRow): Promise<void> {
    const registrations = await listRegistrations(this.deps.db, connection.id);
    for (const registration of registrations) await this.#unregister(connection, registration);
    this.deps.onChange();
  }

  async #register(
    tx: Executor,
    connection: IntegrationConnectionRow,
    registration: LinearWebhookRegistrationRow,
  ): Promise<LinearWebhookRegistrationRow> {
    const url = this.webhookUrl();
    const now = new Date();
    if (!url) {
      const lastError = 'PUBLIC_BASE_URL is not configured; the webhook cannot be registered.';
      await updateRegistration(tx, registration.id, { lastError, lastErrorAt: now });
      return { ...registration, lastError, lastErrorAt: now };
    }
    try {
      const secret = this.deps.box.open(registration.secretEnc, SECRET_CONTEXT.linearWebhookSecret);
      const providerWebhookId = await createLinearWebhook(this.deps.clientFor(connection), {
        url,
        teamId: registration.teamId,
        secret,
      });
      const patch = {
        providerWebhookId,
        status: 'active' as const,
        lastError: null,
        lastErrorAt: null,
      };
      await updateRegistration(tx, registration.id, patch);
      return { ...registration, ...patch };
    } catch (err) {
      const lastError = `Linear refused to create the webhook: ${errorText(err)}`;
      this.deps.log.warn(
        { connectionId: connection.id, teamId: registration.teamId, err: errorText(err) },
        'linear webhook registration failed',
      );
      await updateRegistration(tx, registration.id, {
        status: 'missing',
        lastError,
        lastErrorAt: now,
      });
      if (isLinearAuthError(err))
        await updateConnection(tx, connection.id, {
          status: 'error',
          lastError: 'Linear rejected the credentials; reconnect Linear.',
          lastErrorAt: now,
        });
      return { ...registration, status: 'missing', lastError, lastErrorAt: now };
    }
  }

  async #unregister(
    connection: IntegrationConnectionRow,
    registration: LinearWebhookRegistrationRow,
  ): Promise<void> {
    if (!registration.providerWebhookId) return;
    try {
      await deleteLinearWebhook(this.deps.clientFor(connection), registration.providerWebhookId);
    } catch (err) {
      // The reconciler deletes webhooks it created and no longer tracks (orphans).
      this.deps.log.warn(
        { connectionId: connection.id, teamId: registration.teamId, err: errorText(err) },
        'linear webhook deletion failed; left for the reconciler',
      );
    }
  }

  /**
   * Makes Linear match the table for one connection: recreates missing or disabled webhooks,
   * deletes unneeded ones, and deletes orphans — webhooks at our URL with our label that no
   * registration (of any connection) knows.
   */
  async reconcileConnection(connectionId: string): Promise<ReconcileReport> {
    const report: ReconcileReport = {
      connectionId,
      created: 0,
      deleted: 0,
      orphansDeleted: 0,
      error: null,
    };
    const url = this.webhookUrl();
    // Whether a registration (and so a webhook secret the intake may have cached) changed.
    let changed = false;
    try {
      await this.deps.db.transaction(async (tx) => {
        const connection = await lockConnection(tx, connectionId);
        if (connection?.provider !== LINEAR) return;
        await pruneStaleContainerNeeds(tx, connectionId);
        const client = this.deps.clientFor(connection);
        const remote = await listLinearWebhooks(client);
        const remoteById = new Map(remote.map((h) => [h.id, h]));
        const registrations = await listRegistrations(tx, connectionId);
        for (const registration of registrations) {
          if (registration.needs === 0) {
            await this.#unregister(connection, registration);
            await deleteRegistration(tx, registration.id);
            report.deleted += 1;
            changed = true;
            continue;
          }
          const hook = registration.providerWebhookId
            ? remoteById.get(registration.providerWebhookId)
            : undefined;
          if (!url || (hook?.enabled && hook.url === url)) continue;
          // Missing at Linear, disabled after repeated failures, or pointing elsewhere.
          if (hook) await this.#unregister(connection, registration);
          changed = true;
          await updateRegistration(tx, registration.id, {
            providerWebhookId: null,
            status: 'missing',
          });
          const updated = await this.#register(tx, connection, {
            ...registration,
            providerWebhookId: null,
            status: 'missing',
          });
          if (updated.status === 'active') report.created += 1;
        }
        if (url) {
          for (const hook of remote) {
            if (hook.url !== url || hook.label !== LINEAR_WEBHOOK_LABEL) continue;
            if (await findRegistrationByProviderWebhookId(tx, hook.id)) continue;
            await deleteLinearWebhook(client, hook.id);
            report.orphansDeleted += 1;
          }
        }
        await updateConnection(tx, connectionId, {
          lastReconciledAt: new Date(),
          ...(connection.status === 'error' ? { status: 'active', lastError: null } : {}),
        });
      });
    } catch (err) {
      report.error = errorText(err);
      await updateConnection(this.deps.db, connectionId, {
        ...(isLinearAuthError(err) ? { status: 'error' as const } : {}),
        lastError: `Reconciliation failed: ${report.error}`,
        lastErrorAt: new Date(),
      }).catch(() => undefined);
      this.deps.log.warn({ connectionId, err: report.error }, 'linear reconciliation failed');
      changed = true;
    }
    // A run that changed nothing (the usual periodic case) keeps the intake's secret cache.
    if (changed) this.deps.onChange();
    return report;
  }

  async reconcileAll(): Promise<ReconcileReport[]> {
    const connections = await listConnections(this.deps.db, LINEAR);
    const reports: ReconcileReport[] = [];
    for (const connection of connections)
      reports.push(await this.reconcileConnection(connection.id));
    return reports;
  }
}
