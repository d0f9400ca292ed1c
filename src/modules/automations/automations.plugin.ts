import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { onCloseStep } from '../../lifecycle.ts';
import { type BackgroundJob, InboxWorker } from '../inbox/inbox.worker.ts';
import type { ItemStore } from './automation.effects.ts';
import { automationHandler, type PreparedEvent } from './automation.processor.ts';
import { type EventSource, EventSources } from './automation.sources.ts';
import type { AutomationsDeps, BackfillView } from './automations.service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The automation engine's dependencies (settings routes, dry runs, tools). */
    automations: AutomationsDeps;
    /** The in-process inbox worker (also present, stopped, when AUTOMATION_WORKER_ENABLED=false). */
    inboxWorker: InboxWorker<PreparedEvent>;
  }
}

export interface AutomationsPluginOptions {
  store: ItemStore;
  /** Every provider's event source (the registry's). */
  sources: readonly EventSource[];
  /** Backfills of the given connections, for the settings page. */
  listBackfills?: (connectionIds: readonly string[]) => Promise<BackfillView[]>;
  /** Providers' own integration identities (an OAuth app's actor id): the loop guard. */
  ownActorIds?: readonly string[];
  /** Work run beside the inbox loop (providers' backfills). */
  backgroundJobs?: readonly BackgroundJob[];
}

/**
 * The automation engine: decorates the app with its dependencies and the inbox worker that
 * runs it, which starts with the app (unless AUTOMATION_WORKER_ENABLED=false, or unset under
 * NODE_ENV=test: tests drive it with `app.inboxWorker.drain()`) and stops, finishing its
 * current batch, on close.
 */
export const automationsPlugin = fp(
  async (app: FastifyInstance, options: AutomationsPluginOptions) => {
    const config = app.config;
    const ownActorIds = [
      ...(config.AUTOMATION_OWN_ACTOR_IDS ?? []),
      ...(options.ownActorIds ?? []),
    ];
    const deps: AutomationsDeps = {
      db: app.database.db,
      store: options.store,
      sources: new EventSources(options.sources),
      listBackfills: options.listBackfills ?? (async () => []),
      ownActorIds,
      log: app.log,
    };
    app.decorate('automations', deps);
    const worker = new InboxWorker(app.database, automationHandler({ ...deps, log: app.log }), {
      batchSize: config.AUTOMATION_BATCH_SIZE,
      concurrency: config.AUTOMATION_WORKER_CONCURRENCY,
      leaseMs: config.AUTOMATION_LEASE_MS,
      pollMs: config.AUTOMATION_POLL_MS,
      maxAttempts: config.AUTOMATION_MAX_ATTEMPTS,
      retryBaseMs: config.AUTOMATION_RETRY_BASE_MS,
      retryMaxMs: config.AUTOMATION_RETRY_MAX_MS,
      log: app.log,
      onOutcome: (outcome) => app.metrics.automationOutcomes.inc({ outcome }),
    });
    for (const job of options.backgroundJobs ?? []) worker.addBackgroundJob(job);
    app.decorate('inboxWorker', worker);
    if (config.AUTOMATION_WORKER_ENABLED ?? config.NODE_ENV !== 'test') {
      app.addHook('onReady', async () => {
        await worker.start();
      });
    }
    // preClose: stop claiming before the server and the database close.
    onCloseStep(app, 'inbox worker', () => worker.stop(), 'preClose');
  },
  { name: 'automations' },
);
