import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organisations, users } from '../identity/identity.table.ts';

/**
 * A provider's id (`providers/registry.ts` holds the list). Stored as text: which ids exist is
 * the registry's business, not this table's.
 */
export type ProviderId = string;

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
 * One connection per provider and workspace: an organisation (`organisation_id`)
 * or a user's personal workspace (`user_id`, organisation_id null). Exactly one of the two is
 * set. Every `*_enc` column holds a secret-box ciphertext (AES-256-GCM, see secret-box.ts);
 * none of them is ever part of a response schema.
 */
export const integrationConnections = pgTable(
  'integration_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider').$type<ProviderId>().notNull(),
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
    /** Notion only: the address the pending token came from (shown to admins). */
    notionPendingFrom: text('notion_pending_from'),
    /** Notion only: when and from where the confirmed token had arrived. */
    notionVerifiedReceivedAt: timestamp('notion_verified_received_at', { withTimezone: true }),
    notionVerifiedFrom: text('notion_verified_from'),
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

/** Single-use OAuth `state` values, stored hashed and bound to the user and workspace. */
export const integrationOauthStates = pgTable(
  'integration_oauth_states',
  {
    stateHash: text('state_hash').primaryKey(),
    provider: text('provider').$type<ProviderId>().notNull(),
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

export type IntegrationConnectionRow = typeof integrationConnections.$inferSelect;
