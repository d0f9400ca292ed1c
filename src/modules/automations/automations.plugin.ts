import type { LinearClient } from '@linear/sdk';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ItemStore } from './automation.effects.ts';
import type { NotionPageReader } from './automation.processor.ts';
import { AutomationWorker } from './automation.worker.ts';
import { type AutomationsDeps, noWebhookNeeds, type WebhookNeeds } from './automations.service.ts';
import { LinearBackfillRunner } from './linear-backfill.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The automation engine's dependencies (settings routes, dry runs, tools). */
    automations: AutomationsDeps;
    /** The in-process inbox worker (also present, stopped, when AUTOMATION_WORKER_ENABLED=false). */
    automationWorker: AutomationWorker;
  }
}

export interface AutomationsPluginOptions {
  store: ItemStore;
  notion?: NotionPageReader | null;
  webhooks?: WebhookNeeds;
  /** A Linear client for a connection (backfills); none: no backfills run. */
  linearClient?: (connectionId: string) => Promise<LinearClient | undefined>;
}

/**
 * The automation engine: decorates the app with its dependencies and the inbox worker, which
 * starts with the app (unless AUTOMATION_WORKER_ENABLED=false, or unset under NODE_ENV=test:
 * tests drive it with `app.automationWorker.drain()`) and stops, finishing its current batch, on close.
 */
export const automationsPlugin = fp(
  async (app: FastifyInstance, options: AutomationsPluginOptions) => {
    const config = app.config;
    const ownActorIds = [
      ...(config.AUTOMATION_OWN_ACTOR_IDS ?? []),
      ...(config.LINEAR_CLIENT_ID ? [config.LINEAR_CLIENT_ID] : []),
    ];
    const deps: AutomationsDeps = {
      db: app.database.db,
      store: options.store,
      notion: options.notion ?? null,
      webhooks: options.webhooks ?? noWebhookNeeds,
      ownActorIds,
      log: app.log,
    };
    app.decorate('automations', deps);
    const worker = new AutomationWorker(
      app.database,
      {
        db: deps.db,
        store: deps.store,
        notion: deps.notion,
        ownActorIds,
        log: app.log,
        onOutcome: (outcome) => app.metrics.automationOutcomes.inc({ outcome }),
      },
      {
        batchSize: config.AUTOMATION_BATCH_SIZE,
        concurrency: config.AUTOMATION_WORKER_CONCURRENCY,
        leaseMs: config.AUTOMATION_LEASE_MS,
        pollMs: config.AUTOMATION_POLL_MS,
        maxAttempts: config.AUTOMATION_MAX_ATTEMPTS,
        retryBaseMs: config.AUTOMATION_RETRY_BASE_MS,
        retryMaxMs: config.AUTOMATION_RETRY_MAX_MS,
      },
    );
    if (options.linearClient)
      worker.backfill = new LinearBackfillRunner(
        {
          db: deps.db,
          store: deps.store,
          linearClient: options.linearClient,
          log: app.log,
          pageSize: config.AUTOMATION_BACKFILL_PAGE_SIZE,
          leaseMs: config.AUTOMATION_LEASE_MS,
          maxAttempts: config.AUTOMATION_MAX_ATTEMPTS,
          retryBaseMs: config.AUTOMATION_RETRY_BASE_MS,
          retryMaxMs: config.AUTOMATION_RETRY_MAX_MS,
        },
        worker.workerId,
      );
    app.decorate('automationWorker', worker);
    if (config.AUTOMATION_WORKER_ENABLED ?? config.NODE_ENV !== 'test') {
      app.addHook('onReady', async () => {
        await worker.start();
      });
    }
    // preClose: stop claiming before the server and the database close.
    app.addHook('preClose', async () => {
      await worker.stop();
    });
  },
  { name: 'automations' },
);
