import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The server's Prometheus series. One registry per app instance (not prom-client's global
 * one), so several apps in one process — tests, benchmarks — never collide.
 */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  keyAuth: Counter<'outcome'>;
  rateLimited: Counter<'scope'>;
  webhookDeliveries: Counter<'provider' | 'outcome'>;
  automationOutcomes: Counter<'outcome'>;
  providerCalls: Histogram<'provider' | 'operation' | 'outcome'>;
  /** Set at scrape time by whoever owns the inbox (see registerCollector). */
  inboxDepth: Gauge<'state'>;
  inboxOldestPendingAge: Gauge;
  /** Provider connections by status (`reauthorization_required` needs an admin), at scrape time. */
  integrationConnections: Gauge<'provider' | 'status'>;
  /** Per table: estimated rows (planner statistics) and bytes on disk, at scrape time. */
  tableRows: Gauge<'table'>;
  tableBytes: Gauge<'table'>;
  retentionDeleted: Counter<'table'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false)
    collectDefaultMetrics({ register: registry, prefix: 'monoid_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'monoid_http_request_duration_seconds',
      help: 'HTTP request latency by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    keyAuth: new Counter({
      name: 'monoid_api_key_auth_total',
      help: 'API-key authentication outcomes (ok_cached, ok_verified, missing, invalid, revoked, expired, insufficient_scope, throttled)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'monoid_rate_limited_total',
      help: 'Requests rejected with 429 by scope (api, settings, webhooks, unauthenticated)',
      labelNames: ['scope'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'monoid_webhook_deliveries_total',
      help: 'Incoming webhook deliveries by provider and outcome (accepted, duplicate, rejected)',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    automationOutcomes: new Counter({
      name: 'monoid_automation_events_total',
      help: 'Inbox events processed by the automation engine, by outcome (succeeded, skipped, retried, dead_lettered)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    providerCalls: new Histogram({
      name: 'monoid_provider_call_duration_seconds',
      help: 'Calls to Linear and Notion by operation and outcome (ok, error)',
      labelNames: ['provider', 'operation', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    inboxDepth: new Gauge({
      name: 'monoid_inbox_events',
      help: 'Inbox events by processing state, read at scrape time',
      labelNames: ['state'],
      registers: [registry],
    }),
    inboxOldestPendingAge: new Gauge({
      name: 'monoid_inbox_oldest_pending_age_seconds',
      help: 'Age of the oldest inbox event not yet processed (0 when none)',
      registers: [registry],
    }),
    integrationConnections: new Gauge({
      name: 'monoid_integration_connections',
      help: 'Provider connections by provider and status (active, error, reauthorization_required), read at scrape time',
      labelNames: ['provider', 'status'],
      registers: [registry],
    }),
    tableRows: new Gauge({
      name: 'monoid_table_rows_estimate',
      help: 'Rows per table as the planner estimates them (pg_class.reltuples; 0 before the first analyze), read at scrape time',
      labelNames: ['table'],
      registers: [registry],
    }),
    tableBytes: new Gauge({
      name: 'monoid_table_size_bytes',
      help: 'Bytes per table with its indexes and TOAST (pg_total_relation_size), read at scrape time',
      labelNames: ['table'],
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: 'monoid_retention_deleted_rows_total',
      help: 'Rows deleted by retention (inbox events, runs, finished backfills) by table',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}
