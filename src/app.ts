import type { Writable } from 'node:stream';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/database.ts';
import { acquireDataDirLock, serveEmbeddedDatabase } from './db/embedded-access.ts';
import { migrationsFolder, runMigrations } from './db/migrate.ts';
import { onCloseStep } from './lifecycle.ts';
import './http/auth-context.ts';
import { frameworkError, registerErrorHandling } from './http/error-handler.ts';
import { registerInputGuard } from './http/input-guard.ts';
import { acceptEmptyJsonBodies } from './http/json-body.ts';
import { loggerOptions, registerRequestLogging } from './http/logger.ts';
import { registerOpenApi } from './http/openapi.ts';
import { perAddressRateLimit, registerRateLimiting } from './http/rate-limit.ts';
import { genRequestId } from './http/request-id.ts';
import { serializerCompiler } from './http/response-serializer.ts';
import {
  httpLimits,
  registerResponseHeaders,
  registerSettingsCors,
  trustedProxies,
} from './http/security.ts';
import { apiKeyAuth } from './modules/api-keys/api-key-auth.plugin.ts';
import { apiKeysPlugin } from './modules/api-keys/api-keys.plugin.ts';
import { apiKeySettingsRoutes } from './modules/api-keys/api-keys.routes.ts';
import { apiMeRoutes } from './modules/api-keys/api-me.routes.ts';
import { leakReportRoutes } from './modules/api-keys/leak-report.routes.ts';
import { publicApiItemStore } from './modules/automations/automation.item-store.ts';
import { automationsPlugin } from './modules/automations/automations.plugin.ts';
import { automationSettingsRoutes } from './modules/automations/automations.routes.ts';
import { pruneAutomationRuns } from './modules/automations/run-retention.repository.ts';
import { findContainerRow } from './modules/containers/containers.repository.ts';
import { healthRoutes } from './modules/health/health.routes.ts';
import { clerkWebhookRoutes } from './modules/identity/clerk-webhook.routes.ts';
import { createIdentityHooks } from './modules/identity/identity.hooks.ts';
import { identitySettingsRoutes } from './modules/identity/identity.routes.ts';
import { sessionAuth } from './modules/identity/session-auth.plugin.ts';
import {
  lastInboxEventAt,
  pruneInboxEvents,
  readInboxStats,
  resumeConnectionEvents,
} from './modules/inbox/inbox.repository.ts';
import { InboxIntake } from './modules/inbox/inbox-intake.ts';
import { inboxWebhookRoutes } from './modules/inbox/inbox-webhook.routes.ts';
import { daysBefore, RetentionRunner } from './modules/inbox/retention.ts';
import { integrationSettingsRoutes } from './modules/integrations/integration-settings.routes.ts';
import { countConnectionsByStatus } from './modules/integrations/integrations.repository.ts';
import { IntegrationsService, openSecretBox } from './modules/integrations/integrations.service.ts';
import { registerMetricsHooks } from './modules/metrics/metrics.hooks.ts';
import { metricsRoutes } from './modules/metrics/metrics.routes.ts';
import { createMetrics } from './modules/metrics/metrics.ts';
import { observeProviderCalls } from './modules/metrics/provider-calls.ts';
import { readTableSizes } from './modules/metrics/table-sizes.repository.ts';
import { planningRoutes } from './modules/planning/planning.routes.ts';
import { type Clock, systemClock } from './modules/providers/budget/clock.ts';
import { createBudgetStore } from './modules/providers/budget/provider-budget.ts';
import {
  createProviders,
  integrationSchemas,
  type ProviderRegistry,
} from './modules/providers/registry.ts';
import { securityLogRoutes } from './modules/security-log/security-log.routes.ts';
import { startRetention } from './modules/security-log/security-log.ts';
import { workspaceIdOf } from './modules/workspaces/workspace.context.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: Database;
    integrations: IntegrationsService;
    /** The running providers (`providers/registry.ts`). */
    providers: ProviderRegistry;
    /** The one webhook intake path into the inbox. */
    inboxIntake: InboxIntake;
    /** Deletes old inbox events, runs and finished backfills (`runOnce` in tests). */
    retention: RetentionRunner;
  }
}

export interface AppOverrides {
  /** An already open database; the caller keeps ownership and closes it. */
  database?: Database;
  /** Where log lines go (tests capture them); stdout otherwise. */
  logStream?: Writable;
  /** Skip migrations (the caller ran them). Default: run them. */
  skipMigrations?: boolean;
  /** Time for token expiries, budgets and retention windows (tests simulate days). */
  clock?: Clock;
  /** Do not start providers' background work at start (the Linear reconciler; tests drive it). */
  skipReconciler?: boolean;
  /** Extra routes registered after the app's own (tests use this for a throwing route). */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
  /** Extra routes registered inside the /api/v1 scope, behind key auth (tests, benchmarks). */
  extraApiRoutes?: (v1: FastifyInstance) => void | Promise<void>;
}

/** Builds a ready, not listening, MONOid server. `server.ts` is the only caller that listens. */
export async function buildApp(
  config: Config,
  overrides: AppOverrides = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, overrides.logStream),
    genReqId: genRequestId,
    requestIdHeader: false,
    // registerRequestLogging writes one line per request instead of Fastify's two.
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: true,
    }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: trustedProxies(config.TRUST_PROXY),
    // Bounds for slow or hostile clients (security finding 11); Node's own defaults are
    // looser, and it checks them only every 30 s unless told otherwise.
    ...httpLimits(config),
    routerOptions: { maxParamLength: 200 },
    frameworkErrors: frameworkError,
    return503OnClosing: true,
  });

  app.server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  app.decorate('closingSteps', new Set<string>());

  const ownsDatabase = !overrides.database;
  // The embedded database opens in one process at a time: take its data-directory lock
  // (the operator CLI may hold it for a moment), and serve it to local tools once open.
  const embeddedDir =
    ownsDatabase && !config.DATABASE_URL && config.DATA_DIR !== 'memory' ? config.DATA_DIR : null;
  const releaseLock = embeddedDir
    ? await acquireDataDirLock(embeddedDir, { waitMs: 10_000 })
    : () => undefined;
  const database =
    overrides.database ??
    (await openDatabase({
      url: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      ...(overrides.skipMigrations ? {} : { migrationsFolder }),
      poolSize: config.DATABASE_POOL_SIZE,
      onBackgroundError: (err) => app.log.warn({ err }, 'database connection error'),
    }));
  if (!overrides.skipMigrations) await runMigrations(database);
  const stopServingEmbedded =
    embeddedDir && database.pglite
      ? await serveEmbeddedDatabase(database.pglite, embeddedDir, (err) =>
          app.log.warn({ err }, 'embedded database socket error'),
        )
      : async () => undefined;

  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('metrics', createMetrics());
  app.decorate('metricsCollectors', []);
  // Before any feature plugin, so features can push their hooks (API keys: onUserDeleted).
  app.decorate('identityHooks', createIdentityHooks());
  // Registered first, so it runs after every feature's own onClose hook (flushes first).
  onCloseStep(app, 'database', async () => {
    await stopServingEmbedded();
    if (ownsDatabase) await database.close();
    releaseLock();
  });

  app.decorateRequest('principal', null);
  app.decorateRequest('sessionUser', null);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  registerRequestLogging(app);
  registerInputGuard(app); // NUL in any field → 400 before Postgres sees it
  acceptEmptyJsonBodies(app);
  registerResponseHeaders(app); // X-Request-Id and the security headers
  // During shutdown, responses to requests still in flight ask the client to close its
  // keep-alive connection; otherwise close() would wait for the client to hang up.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  registerMetricsHooks(app);

  // Providers and integrations need each other (connect flows save connections; settings
  // list providers): integrations read the registry when called, after it is built here.
  const box = openSecretBox(config);
  let providers: ProviderRegistry | undefined;
  const integrations = new IntegrationsService({
    database,
    box,
    providers: () => providers?.list.map((p) => p.connections) ?? [],
    onChange: () => providers?.invalidate(),
    lastEventAt: (connectionId) => lastInboxEventAt(database.db, connectionId),
    // Events stored while the connection waited for an admin are processed now.
    onReauthorized: async (connectionId) => {
      await resumeConnectionEvents(database.db, connectionId);
      app.inboxWorker.wake();
    },
  });
  // Provider call budgets, shared by every instance (Redis with REDIS_URL, else Postgres).
  const clock = overrides.clock ?? systemClock;
  const budget = createBudgetStore({ db: database.db, redisUrl: config.REDIS_URL, log: app.log });
  onCloseStep(app, 'provider budget store', () => budget.close());
  const registry = createProviders({
    database,
    config,
    log: app.log,
    box,
    budget,
    clock,
    connections: integrations.connections,
    store: publicApiItemStore,
    // Only a container of the connection's own workspace can be linked to a Linear team.
    containerGuard: async ({ workspace, containerId }) =>
      Boolean(
        await findContainerRow(database.db, {
          id: containerId,
          workspaceIds: [workspaceIdOf(workspace)],
        }),
      ),
  });
  providers = registry;
  app.decorate('integrations', integrations);
  app.decorate('providers', registry);
  onCloseStep(app, 'providers (Linear reconciler)', async () => {
    for (const provider of registry.list) await provider.stop?.();
  });
  const intake = new InboxIntake(database, app.log, {
    // Leaves most of the pool to the API and the worker; under a burst, each slot's next
    // statement carries every delivery that arrived meanwhile.
    maxInFlight: Math.max(1, Math.floor(config.DATABASE_POOL_SIZE / 4)),
    maxEvents: 500,
  });
  app.decorate('inboxIntake', intake);
  onCloseStep(app, 'inbox intake', () => intake.stop());
  for (const provider of registry.list) {
    const stop = observeProviderCalls(
      { provider: provider.id, baseUrl: provider.api.url, style: provider.api.style },
      (labels, seconds) => app.metrics.providerCalls.observe(labels, seconds),
    );
    onCloseStep(app, `${provider.id} call metrics`, stop);
  }
  app.metricsCollectors.push(async () => {
    const stats = await readInboxStats(database.db);
    for (const [state, count] of Object.entries(stats.byState))
      app.metrics.inboxDepth.set({ state }, count);
    app.metrics.inboxOldestPendingAge.set(stats.oldestPendingAgeSeconds);
    app.metrics.integrationConnections.reset();
    for (const row of await countConnectionsByStatus(database.db))
      app.metrics.integrationConnections.set(
        { provider: row.provider, status: row.status },
        row.count,
      );
    app.metrics.tableRows.reset();
    app.metrics.tableBytes.reset();
    for (const size of await readTableSizes(database.db)) {
      app.metrics.tableRows.set({ table: size.table }, size.rows);
      app.metrics.tableBytes.set({ table: size.table }, size.bytes);
    }
  });

  // The automation engine: its inbox worker starts once the app is ready (see the plugin).
  await app.register(automationsPlugin, {
    store: publicApiItemStore,
    sources: registry.list.map((p) => p.events),
    ownActorIds: registry.list.flatMap((p) => p.ownActorIds),
    backgroundJobs: registry.list.flatMap((p) => p.backgroundJobs),
    listBackfills: async (connectionIds) =>
      (await Promise.all(registry.list.map((p) => p.listBackfills?.(connectionIds) ?? []))).flat(),
  });
  const db = database.db;
  const retention = new RetentionRunner({
    db,
    clock,
    log: app.log,
    batchSize: config.RETENTION_BATCH_SIZE,
    pauseMs: config.RETENTION_PAUSE_MS,
    intervalMs: config.RETENTION_INTERVAL_MS,
    leaseMs: 10 * 60_000,
    onDeleted: (table, rows) => app.metrics.retentionDeleted.inc({ table }, rows),
    targets: [
      {
        table: 'automation_runs',
        deleteBatch: ({ now, limit }) =>
          pruneAutomationRuns(db, {
            before: daysBefore(now, config.AUTOMATION_RUN_RETENTION_DAYS),
            limit,
          }),
      },
      {
        table: 'inbox_events',
        deleteBatch: ({ now, limit }) =>
          pruneInboxEvents(db, {
            processedBefore: daysBefore(now, config.INBOX_RETENTION_PROCESSED_DAYS),
            failedBefore: daysBefore(now, config.INBOX_RETENTION_FAILED_DAYS),
            limit,
          }),
      },
      ...registry.list.flatMap((p) => p.retention ?? []),
    ],
  });
  app.decorate('retention', retention);
  app.addHook('onReady', async () => retention.start());
  onCloseStep(app, 'inbox retention', () => retention.stop(), 'preClose');
  // Deliveries received by this process wake its own worker at once, after their commit;
  // NOTIFY (coalesced) is for the other processes.
  const stopWaking = intake.onInboxEvents(() => app.inboxWorker.wake());
  onCloseStep(app, 'inbox wake-up', stopWaking);

  await registerOpenApi(app, config);
  await app.register(healthRoutes);
  if (config.METRICS_ENABLED) {
    const requireToken = config.NODE_ENV === 'production';
    await app.register(metricsRoutes, { token: config.METRICS_TOKEN, requireToken });
  }
  // Each surface is an encapsulated plugin under its prefix with its own authentication:
  // /api/v1 (API keys), /api/settings (Clerk session), /webhooks (provider signatures).
  await registerRateLimiting(app, config);
  await app.register(apiKeysPlugin);
  const stopRetention = startRetention({
    db: database.db,
    retentionDays: config.SECURITY_LOG_RETENTION_DAYS,
    onError: (err) => app.log.warn({ err }, 'could not prune the security log'),
  });
  onCloseStep(app, 'security log retention', stopRetention);
  await app.register(
    async (v1) => {
      await v1.register(apiKeyAuth); // onRequest hook: key, rate limit, scope → request.principal
      await v1.register(apiMeRoutes); // GET /api/v1/me
      await v1.register(planningRoutes); // the nine resources + Idempotency-Key on POST
      if (overrides.extraApiRoutes) await v1.register(overrides.extraApiRoutes);
    },
    { prefix: '/api/v1' },
  );
  await app.register(
    async (settings) => {
      await registerSettingsCors(settings, config);
      perAddressRateLimit(settings, {
        name: 'settings',
        max: config.ADDRESS_RATE_LIMIT_PER_MINUTE,
      });
      await settings.register(sessionAuth);
      await settings.register(identitySettingsRoutes); // GET /api/settings/me
      await settings.register(apiKeySettingsRoutes, { prefix: '/api-keys' });
      await settings.register(securityLogRoutes, { prefix: '/security-log' });
      await settings.register(automationSettingsRoutes, { prefix: '/automations' });
      await settings.register(integrationSettingsRoutes, {
        prefix: '/integrations',
        schemas: integrationSchemas,
      });
    },
    { prefix: '/api/settings' },
  );
  await app.register(
    async (webhooks) => {
      // Per sending address: generous, since each provider delivers from a handful of IPs.
      perAddressRateLimit(webhooks, {
        name: 'webhooks',
        max: config.WEBHOOK_RATE_LIMIT_PER_MINUTE,
      });
      await webhooks.register(clerkWebhookRoutes, { prefix: '/clerk' });
      for (const provider of registry.list)
        await webhooks.register(inboxWebhookRoutes, {
          prefix: `/${provider.id}`,
          intake,
          verifier: provider.webhooks,
        });
      await webhooks.register(leakReportRoutes, { prefix: '/github/secret-scanning' });
    },
    { prefix: '/webhooks' },
  );

  if (overrides.extraRoutes) await overrides.extraRoutes(app);
  await app.ready();
  if (!overrides.skipReconciler) for (const provider of registry.list) provider.start?.();
  return app;
}
