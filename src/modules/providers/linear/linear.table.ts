import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { leaseColumns, timestampColumns } from '../../../db/columns.ts';
import { containers } from '../../containers/containers.table.ts';
import { users } from '../../identity/identity.table.ts';
import { integrationConnections } from '../../integrations/integrations.table.ts';

/**
 * `active`: registered at Linear (`provider_webhook_id` set). `missing`: must be (re)created
 * by the reconciler (creation failed or Linear lost it). Rows are deleted once nothing needs
 * them and Linear's webhook is deleted.
 */
export const linearWebhookStatuses = ['active', 'missing'] as const;
export type LinearWebhookStatus = (typeof linearWebhookStatuses)[number];

/** One Linear webhook per (connection, team), shared by every link and automation needing it. */
export const linearWebhookRegistrations = pgTable(
  'linear_webhook_registrations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => integrationConnections.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    providerWebhookId: text('provider_webhook_id'),
    /** The signing secret this server generated and gave Linear, encrypted. */
    secretEnc: text('secret_enc').notNull(),
    status: text('status', { enum: linearWebhookStatuses }).notNull().default('missing'),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    ...timestampColumns(),
  },
  (t) => [
    uniqueIndex('linear_webhook_registrations_conn_team_key').on(t.connectionId, t.teamId),
    uniqueIndex('linear_webhook_registrations_provider_id_key')
      .on(t.providerWebhookId)
      .where(sql`${t.providerWebhookId} is not null`),
  ],
);

/**
 * What needs a registration (reference counting): one row per reason, e.g.
 * `container:<uuid>` (a team link) or `automation:<uuid>`. The webhook is deleted at Linear
 * when its last need is released.
 */
export const linearWebhookNeeds = pgTable(
  'linear_webhook_needs',
  {
    registrationId: uuid('registration_id')
      .notNull()
      .references(() => linearWebhookRegistrations.id, { onDelete: 'cascade' }),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('linear_webhook_needs_key').on(t.registrationId, t.reason)],
);

/**
 * A container linked to a Linear team (at most one team per container); deleting the
 * container removes its link (and the reconciler then releases the webhook need).
 */
export const linearTeamLinks = pgTable(
  'linear_team_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    containerId: uuid('container_id')
      .notNull()
      .references(() => containers.id, { onDelete: 'cascade' }),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => integrationConnections.id, { onDelete: 'cascade' }),
    teamId: text('team_id').notNull(),
    teamName: text('team_name'),
    /**
     * `from_provider`: Linear is the source of truth (one way). `two_way`: task changes made in
     * MONOid are pushed back to the issue (see linear-push.ts). `sync_reason` says why a link
     * is `from_provider` when two-way was not possible (a connection without write access).
     */
    sync: text('sync', { enum: ['from_provider', 'two_way'] })
      .notNull()
      .default('from_provider'),
    syncReason: text('sync_reason'),
    /**
     * When the link's backfill finished: a link is backfilled once, even after retention
     * deleted the finished backfill row.
     */
    backfilledAt: timestamp('backfilled_at', { withTimezone: true }),
    createdByUserId: uuid('created_by_user_id').references(() => users.id, {
      onDelete: 'set null',
    }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('linear_team_links_container_key').on(t.containerId),
    index('linear_team_links_conn_team_idx').on(t.connectionId, t.teamId),
  ],
);

export const backfillStatuses = ['pending', 'running', 'done', 'failed'] as const;
export type BackfillStatus = (typeof backfillStatuses)[number];

/**
 * Linear backfill of a team link: resumable (the cursor of the next page is committed with
 * the page's items), claimed with a lease like inbox rows so any process can resume it.
 */
export const linearBackfills = pgTable(
  'linear_backfills',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    linkId: uuid('link_id')
      .notNull()
      .references(() => linearTeamLinks.id, { onDelete: 'cascade' }),
    containerId: uuid('container_id').notNull(),
    connectionId: uuid('connection_id').notNull(),
    teamId: text('team_id').notNull(),
    status: text('status', { enum: backfillStatuses }).notNull().default('pending'),
    /** `projects` then `issues`. */
    phase: text('phase', { enum: ['projects', 'issues'] })
      .notNull()
      .default('projects'),
    cursor: text('cursor'),
    pages: integer('pages').notNull().default(0),
    items: integer('items').notNull().default(0),
    ...leaseColumns(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    ...timestampColumns(),
  },
  (t) => [uniqueIndex('linear_backfills_link_key').on(t.linkId)],
);

export type LinearWebhookRegistrationRow = typeof linearWebhookRegistrations.$inferSelect;
export type LinearTeamLinkRow = typeof linearTeamLinks.$inferSelect;
export type LinearBackfillRow = typeof linearBackfills.$inferSelect;
