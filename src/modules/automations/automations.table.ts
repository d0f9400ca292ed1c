import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestampColumns } from '../../db/columns.ts';
import { organisations, users } from '../identity/identity.table.ts';
import { inboxEvents } from '../inbox/inbox.table.ts';
import type { ProviderId } from '../integrations/integrations.table.ts';

/**
 * User automations, scoped to a workspace: an organisation (`organisation_id`) or a user's
 * personal workspace (`user_id`); exactly one is set. `conditions` is JSON Logic, `actions`
 * the validated action list (see automation.definition.ts).
 */
export const automations = pgTable(
  'automations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organisationId: uuid('organisation_id').references(() => organisations.id, {
      onDelete: 'cascade',
    }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    enabled: boolean('enabled').notNull().default(true),
    /** The provider whose events trigger it (a registry id). */
    source: text('source').$type<ProviderId>().notNull(),
    event: text('event').notNull(),
    scope: jsonb('scope').notNull().default({}),
    conditions: jsonb('conditions'),
    actions: jsonb('actions').notNull(),
    /**
     * Direction of the items the rule made (Notion): `two_way` pushes their MONOid changes
     * back to the page through `write_back` (see automation.write-back.ts).
     */
    sync: text('sync', { enum: ['from_provider', 'two_way'] })
      .notNull()
      .default('from_provider'),
    writeBack: jsonb('write_back'),
    createdByUserId: uuid('created_by_user_id').references(() => users.id, {
      onDelete: 'set null',
    }),
    ...timestampColumns(),
  },
  (t) => [
    check('automations_one_workspace', sql`(${t.organisationId} is null) <> (${t.userId} is null)`),
    index('automations_org_idx').on(t.organisationId, t.source, t.event),
    index('automations_user_idx').on(t.userId, t.source, t.event),
  ],
);

export const runStatuses = ['succeeded', 'not_matched', 'skipped', 'failed', 'dead'] as const;
export type RunStatus = (typeof runStatuses)[number];
export const runDirections = ['incoming', 'outgoing'] as const;

/**
 * Run history: one row per (inbox event, target), where a target is a rule
 * (`automation:<id>`) or the Linear sync of a container (`sync:<container id>`). A successful
 * run commits in the same transaction as its effects, and the unique key makes a replay or a
 * duplicate change nothing twice. Failed attempts upsert the same row (status, error, attempts).
 */
export const automationRuns = pgTable(
  'automation_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The incoming event evaluated; null for an outgoing push (two-way sync). */
    inboxEventId: uuid('inbox_event_id').references(() => inboxEvents.id, { onDelete: 'cascade' }),
    targetKey: text('target_key').notNull(),
    kind: text('kind', { enum: ['rule', 'sync'] }).notNull(),
    direction: text('direction', { enum: runDirections }).notNull().default('incoming'),
    automationId: uuid('automation_id').references(() => automations.id, { onDelete: 'cascade' }),
    containerId: uuid('container_id'),
    organisationId: uuid('organisation_id'),
    userId: uuid('user_id'),
    status: text('status', { enum: runStatuses }).notNull(),
    matched: boolean('matched').notNull().default(false),
    /** Where evaluation stopped (trigger, scope, loop_guard, conditions, stale) when not matched. */
    stage: text('stage'),
    reason: text('reason'),
    failedCondition: jsonb('failed_condition'),
    /** What the run created or changed: [{ action, itemType, itemId, change }]. */
    effects: jsonb('effects').notNull().default([]),
    warnings: jsonb('warnings').notNull().default([]),
    error: text('error'),
    attempts: integer('attempts').notNull().default(1),
    ...timestampColumns(),
  },
  (t) => [
    uniqueIndex('automation_runs_event_target_key').on(t.inboxEventId, t.targetKey),
    index('automation_runs_automation_idx').on(t.automationId, t.createdAt),
    index('automation_runs_org_idx').on(t.organisationId, t.createdAt),
    index('automation_runs_user_idx').on(t.userId, t.createdAt),
  ],
);

/**
 * The MONOid item each external item became, per workspace and container: the uniqueness
 * guarantee ("one MONOid item per external item per container") and the version of the
 * external item last applied (updates older than it are ignored). `container_key` is the
 * container id, or '' for items outside a container (standalone tasks, containers).
 */
export const externalItems = pgTable(
  'automation_external_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    workspaceKey: text('workspace_key').notNull(),
    provider: text('provider').$type<ProviderId>().notNull(),
    externalId: text('external_id').notNull(),
    itemType: text('item_type', { enum: ['task', 'project', 'container'] }).notNull(),
    containerKey: text('container_key').notNull().default(''),
    /** Null for a tombstone: a removal seen before the item existed (out-of-order delivery). */
    itemId: uuid('item_id'),
    /** Provider version (ms) of the last applied state. */
    versionAt: bigint('version_at', { mode: 'number' }).notNull().default(0),
    /**
     * Provider version (ms) that the server's own last write to the external item produced
     * (two-way sync): the provider's echo of that write carries it and is not applied again.
     */
    pushedVersionAt: bigint('pushed_version_at', { mode: 'number' }),
    /** The rule whose action made the item (its write-back mapping applies to it). */
    automationId: uuid('automation_id').references(() => automations.id, { onDelete: 'set null' }),
    removedAt: timestamp('removed_at', { withTimezone: true }),
    ...timestampColumns(),
  },
  (t) => [
    uniqueIndex('automation_external_items_key').on(
      t.workspaceKey,
      t.provider,
      t.externalId,
      t.itemType,
      t.containerKey,
    ),
    index('automation_external_items_item_idx').on(t.itemId),
  ],
);

export type AutomationRow = typeof automations.$inferSelect;
export type AutomationRunRow = typeof automationRuns.$inferSelect;
export type ExternalItemRow = typeof externalItems.$inferSelect;
