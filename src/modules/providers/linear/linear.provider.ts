import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../../config.ts';
import type { Database } from '../../../db/database.ts';
import type { ItemStore } from '../../automations/automation.effects.ts';
import { daysBefore, type RetentionTarget } from '../../inbox/retention.ts';
import type { ConnectionsService } from '../../integrations/connections.service.ts';
import type { ConnectionProvider } from '../../integrations/integration.provider.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import type { Clock } from '../budget/clock.ts';
import type { BudgetStore } from '../budget/provider-budget.ts';
import { outboxPusherSettings } from '../outbox/outbox-pusher.ts';
import { LINEAR } from './linear.id.ts';
import { linearConnectionFields } from './linear.schemas.ts';
import {
  listBackfillsOfConnections,
  pruneFinishedBackfills,
} from './linear-backfill.repository.ts';
import { LinearBackfillRunner } from './linear-backfill.ts';
import { createLinearCallPath } from './linear-call-path.ts';
import { LinearClients } from './linear-client.ts';
import {
  type ContainerGuard,
  LINEAR_NAME,
  LinearConnectService,
} from './linear-connect.service.ts';
import { LinearWebhookVerifier } from './linear-intake.ts';
import { LinearPushRunner } from './linear-push.ts';
import { linearSettingsRoutes, webhookView } from './linear-settings.routes.ts';
import { createLinearEventSource, linearEventSource } from './linear-source.ts';
import { LinearWebhookService } from './linear-webhooks.service.ts';

/** What Linear is built from (app.ts supplies it through the registry). */
export interface LinearDeps {
  database: Database;
  config: Config;
  log: FastifyBaseLogger;
  box: SecretBox;
  connections: ConnectionsService;
  store: ItemStore;
  budget: BudgetStore;
  clock: Clock;
  containerGuard: ContainerGuard;
}

/** Linear: webhooks per team, OAuth or API key, a built-in sync of linked containers. */
export const linearProvider = {
  id: LINEAR,
  events: linearEventSource,
  connectionFields: linearConnectionFields,
  create(deps: LinearDeps) {
    const { database, config, log, box, connections } = deps;
    const db = database.db;
    const callPath = createLinearCallPath({
      db,
      box,
      config,
      log,
      clock: deps.clock,
      budget: deps.budget,
    });
    const clients = new LinearClients({ db, config, callPath });
    const verifier = new LinearWebhookVerifier(db, box);
    const registrations = new LinearWebhookService({
      db,
      box,
      log,
      publicBaseUrl: config.PUBLIC_BASE_URL,
      clientFor: (connection) => clients.forConnection(connection),
      onChange: () => verifier.invalidate(),
    });
    const connect = new LinearConnectService({
      db,
      config,
      box,
      connections,
      clients,
      webhooks: registrations,
      containerGuard: deps.containerGuard,
    });
    const backfill = new LinearBackfillRunner({
      db,
      store: deps.store,
      linearClient: (connectionId) => clients.forConnectionId(connectionId, 'background'),
      log,
      pageSize: config.AUTOMATION_BACKFILL_PAGE_SIZE,
      lowComplexity: config.LINEAR_RATE_LIMIT_LOW_COMPLEXITY,
      leaseMs: config.AUTOMATION_LEASE_MS,
      maxAttempts: config.AUTOMATION_MAX_ATTEMPTS,
      retryBaseMs: config.AUTOMATION_RETRY_BASE_MS,
      retryMaxMs: config.AUTOMATION_RETRY_MAX_MS,
    });
    const push = new LinearPushRunner({
      db,
      store: deps.store,
      linearClient: (connectionId) => clients.forConnectionId(connectionId),
      log,
      ...outboxPusherSettings(config),
    });
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<unknown> | undefined;
    return {
      id: LINEAR,
      displayName: LINEAR_NAME,
      clients,
      connect,
      registrations,
      backfill,
      push,
      api: { url: config.LINEAR_API_URL, style: 'graphql' as const },
      ownActorIds: config.LINEAR_CLIENT_ID ? [config.LINEAR_CLIENT_ID] : [],
      webhooks: verifier,
      events: createLinearEventSource({ db, webhooks: registrations }),
      connections: {
        id: LINEAR,
        displayName: LINEAR_NAME,
        fields: linearConnectionFields,
        oauth: {
          authorizeUrl: (state) => connect.authorizeUrl(state),
          exchange: (code, state) => connect.exchange(code, state),
        },
        // Rules saved before Linear was connected need their webhooks now (the reconciler
        // adds the needs of enabled rules); a failure is recorded on the connection.
        afterConnect: async (connection) => {
          await registrations.reconcileConnection(connection.id);
        },
        async view(connection) {
          return { webhooks: (await connect.webhookStatuses(connection)).map(webhookView) };
        },
        beforeDisconnect: (connection) => registrations.removeAll(connection),
        settingsRoutes: linearSettingsRoutes(connect),
      } satisfies ConnectionProvider,
      backgroundJobs: [backfill, push],
      retention: [
        {
          table: 'linear_backfills',
          deleteBatch: ({ now, limit }) =>
            pruneFinishedBackfills(db, {
              before: daysBefore(now, config.LINEAR_BACKFILL_RETENTION_DAYS),
              limit,
            }),
        } satisfies RetentionTarget,
      ],
      async listBackfills(connectionIds: readonly string[]) {
        const rows = await listBackfillsOfConnections(db, connectionIds);
        return rows.map((b) => ({
          id: b.id,
          containerId: b.containerId,
          teamId: b.teamId,
          status: b.status,
          phase: b.phase,
          pages: b.pages,
          items: b.items,
          attempts: b.attempts,
          lastError: b.lastError,
          startedAt: b.startedAt?.getTime() ?? null,
          finishedAt: b.finishedAt?.getTime() ?? null,
          updatedAt: b.updatedAt.getTime(),
        }));
      },
      /** Runs the reconciler now and then every `LINEAR_RECONCILE_INTERVAL_MS` (0: only now). */
      start() {
        const run = () => {
          if (running) return;
          running = registrations
            .reconcileAll()
            .catch((err: unknown) => log.warn({ err }, 'linear reconciler failed'))
            .finally(() => {
              running = undefined;
            });
        };
        run();
        const interval = config.LINEAR_RECONCILE_INTERVAL_MS;
        if (interval > 0) {
          timer = setInterval(run, interval);
          timer.unref();
        }
      },
      async stop() {
        if (timer) clearInterval(timer);
        timer = undefined;
        await running;
      },
    };
  },
};
