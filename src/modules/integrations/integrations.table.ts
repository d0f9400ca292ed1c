import { sql } from 'drizzle-orm';
import {
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
import { containers } from '../containers/containers.table.ts';
import { organisations, users } from '../identity/identity.table.ts';

export const integrationProviders = ['linear', 'notion'] as const;
export type IntegrationProvider = (typeof integrationProviders)[number];

/** How a connection authenticates to the provider. */
export const connectionAuthTypes = ['oauth', 'api_key', 'internal_token'] as const;
export type ConnectionAuthType = (typeof connectionAuthTypes)[number];

/**
 * `active`: the token works as far as we know. `error`: the last provider call or the
 * reconciler failed (see `last_error`); it clears on the next success.
 * `reauthorization_required`: the provider refused the credentials or the refresh token
 * (`invalid_grant`); `last_error` says why. Calls stop, deliveries keep being stored, and an
 * admin reconnecting (same provider workspace) makes the connection `active` again.
 */
export const connectionStatuses = ['active', 'error', 'reauthorization_required'] as const;
export type ConnectionStatus = (typeof connectionStatuses)[number];

/**
 * One Linear and one Notion connection per workspace: an organisation (`organisation_id`)
 * or a user's personal workspace (`user_id`, organisation_id null). Exactly one of the two is
 * set. Every `*_enc` column holds a secret-box ciphertext (AES-256-GCM, see secret-box.ts);
 * none of them is ever part of a response schema.
 */
export const integrationConnections = pgTable(
  'integration_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider', { enum: integrationProviders }).notNull(),
    organisationId: uuid('organisation_id').references(() => organisations.id, {
      onDelete: 'cascade',
    }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    connectedByUserId: uuid('connected_by_user_id').references(() => users.id, {
      onDelete: 'set null',
    }),
    authType: text('auth_type', { enum: connectionAuthTypes }).notNull(),
    accessTokenEnc: text('access_token_enc').notNull(),
    refreshTokenEnc: text('refresh_token_enc'),
    tokenExpiresAt: timestamp('token_expires_at', { withTimezone: true }),
    /** When the current access token was obtained (refresh bookkeeping: its lifetime). */
    tokenIssuedAt: timestamp('token_issued_at', { withTimezone: true }),
    scopes: text('scopes'),
    /** Linear organization id / Notion workspace id (Notion events are routed by it). */
    externalWorkspaceId: text('external_workspace_id'),
    externalWorkspaceName: text('external_workspace_name'),
    status: text('status', { enum: connectionStatuses }).notNull().default('active'),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    lastReconciledAt: timestamp('last_reconciled_at', { withTimezone: true }),
    /** Notion only: the confirmed webhook verification token (signs X-Notion-Signature). */
    notionVerificationTokenEnc: text('notion_verification_token_enc'),
    notionVerifiedAt: timestamp('notion_verified_at', { withTimezone: true }),
    /** Notion only: the latest unconfirmed handshake token, shown to admins until confirmed. */
    notionPendingTokenEnc: text('notion_pending_token_enc'),
    notionPendingReceivedAt: timestamp('notion_pending_received_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'integration_connections_one_workspace',
      sql`(${t.organisationId} is null) <> (${t.userId} is null)`,
    ),
    uniqueIndex('integration_connections_org_provider_key')
      .on(t.provider, t.organisationId)
      .where(sql`${t.organisationId} is not null`),
    uniqueIndex('integration_connections_user_provider_key')
      .on(t.provider, t.userId)
      .where(sql`${t.userId} is not null`),
    index('integration_connections_external_ws_idx').on(t.provider, t.externalWorkspaceId),
  ],
);

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
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
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

/** Single-use OAuth `state` values, stored hashed and bound to the user and workspace. */
export const integrationOauthStates = pgTable(
  'integration_oauth_states',
  {
    stateHash: text('state_hash').primaryKey(),
    provider: text('provider', { enum: integrationProviders }).notNull(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    organisationId: uuid('organisation_id').references(() => organisations.id, {
      onDelete: 'cascade',
    }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('integration_oauth_states_expires_idx').on(t.expiresAt)],
);

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
 * (provider, connection, delivery id): a redelivery finds the row and adds nothing.
 * After commit, new rows are announced in-process and by a coalesced, empty
 * `NOTIFY inbox_events` (see IntegrationsService.onInboxEvents).
 */
export const inboxEvents = pgTable(
  'inbox_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider', { enum: integrationProviders }).notNull(),
    /** `Linear-Delivery` header / Notion event `id`. */
    deliveryId: text('delivery_id').notNull(),
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
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('inbox_events_delivery_key').on(t.provider, t.connectionId, t.deliveryId),
    // Claim query: pending rows due now, oldest first ...
    index('inbox_events_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    // ... and processing rows whose lease expired (a crashed worker).
    index('inbox_events_lease_idx').on(t.lockedUntil).where(sql`${t.state} = 'processing'`),
    index('inbox_events_connection_idx').on(t.connectionId, t.receivedAt),
  ],
);

export type IntegrationConnectionRow = typeof integrationConnections.$inferSelect;
export type LinearWebhookRegistrationRow = typeof linearWebhookRegistrations.$inferSelect;
export type LinearTeamLinkRow = typeof linearTeamLinks.$inferSelect;
export type InboxEventRow = typeof inboxEvents.$inferSelect;
