/**
 * The schema index: every table of every feature, re-exported so the typed query builder
 * sees one schema. Tables live next to their feature in `*.table.ts` (drizzle-kit reads those
 * files directly, see drizzle.config.ts).
 */

export * from '../modules/api-keys/api-keys.table.ts';
export * from '../modules/automations/automations.table.ts';
export * from '../modules/categories/categories.table.ts';
export * from '../modules/containers/containers.table.ts';
export * from '../modules/daily-notes/daily-notes.table.ts';
export * from '../modules/external-links/external-links.table.ts';
export * from '../modules/idempotency/idempotency.table.ts';
export * from '../modules/identity/identity.table.ts';
export * from '../modules/inbox/inbox.table.ts';
export * from '../modules/inbox/job-leases.table.ts';
export * from '../modules/integrations/integrations.table.ts';
export * from '../modules/labels/labels.table.ts';
export * from '../modules/projects/projects.table.ts';
export * from '../modules/providers/budget/provider-budget.table.ts';
export * from '../modules/providers/linear/linear.table.ts';
export * from '../modules/providers/outbox/sync-outbox.table.ts';
export * from '../modules/reviews/reviews.table.ts';
export * from '../modules/routine-blocks/routine-blocks.table.ts';
export * from '../modules/security-log/security-log.table.ts';
export * from '../modules/tasks/tasks.table.ts';
