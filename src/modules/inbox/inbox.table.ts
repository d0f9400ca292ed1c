import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { leaseColumns } from '../../db/columns.ts';
import { integrationConnections, type ProviderId } from '../integrations/integrations.table.ts';

/**
 * Processing states of an inbox row (the automation engine drives them):
 * - `pending`: waiting; claimable once `next_attempt_at <= now()`.
 * - `processing`: claimed by a worker until `locked_until`; an expired lease is claimable again.
 * - `processed`: done (`processed_at` set).
 * - `failed`: gave up after the engine's maximum attempts (`last_error` says why).
 */
export const inboxStates = ['pending', 'processing', 'processed', 'failed'] as const;
export type InboxState = (typeof inboxStates)[number];

/**
 * Verified provider events, committed before the webhook answers 200. One row per
 * (provider, connection, dedupe key): a redelivery or a replay finds the row and adds nothing.
 * After commit, new rows are announced in-process and by a coalesced, empty
 * `NOTIFY inbox_events` (see InboxIntake.onInboxEvents).
 */
export const inboxEvents = pgTable(
  'inbox_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider').$type<ProviderId>().notNull(),
    /** `Linear-Delivery` header / Notion event `id` (for tracing; not trusted for dedupe). */
    deliveryId: text('delivery_id').notNull(),
    /**
     * What makes two deliveries the same event, from signed content only (the provider's
     * verifier decides): Linear, the SHA-256 of the signed body; Notion, the event `id`.
     */
    dedupeKey: text('dedupe_key').notNull(),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => integrationConnections.id, { onDelete: 'cascade' }),
    /** Linear: `<type>.<action>` e.g. `Issue.create`; Notion: `type` e.g. `page.created`. */
    eventType: text('event_type').notNull(),
    /** Linear `type` (Issue, Comment, ...) / Notion `entity.type` (page, database, ...). */
    entityType: text('entity_type'),
    /** Linear `data.id` / Notion `entity.id`. */
    entityId: text('entity_id'),
    /** Linear team of the event (`data.teamId` or the webhook's team); null for Notion. */
    teamId: text('team_id'),
    /** Provider time of the event: Linear `createdAt` / Notion `timestamp`. */
    occurredAt: timestamp('occurred_at', { withTimezone: true }),
    payload: jsonb('payload').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    state: text('state', { enum: inboxStates }).notNull().default('pending'),
    ...leaseColumns(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('inbox_events_dedupe_key').on(t.provider, t.connectionId, t.dedupeKey),
    // Claim query: pending rows due now, oldest first ...
    index('inbox_events_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    // ... and processing rows whose lease expired (a crashed worker).
    index('inbox_events_lease_idx').on(t.lockedUntil).where(sql`${t.state} = 'processing'`),
    index('inbox_events_connection_idx').on(t.connectionId, t.receivedAt),
  ],
);

export type InboxEventRow = typeof inboxEvents.$inferSelect;
