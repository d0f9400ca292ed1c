import {
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { Scope } from '../../http/auth-context.ts';
import { users } from '../identity/identity.table.ts';

/**
 * API keys. The plaintext key is never stored: `public_id` (the id embedded in the key) finds
 * the row through a unique index, `secret_hash` is the argon2id PHC string of the secret part,
 * and `last_four` is what lists display. Rows are never deleted, so that audit questions
 * ("which key did this, when was it revoked and why") keep an answer.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    publicId: text('public_id').notNull(),
    secretHash: text('secret_hash').notNull(),
    lastFour: text('last_four').notNull(),
    scopes: text('scopes').array().$type<Scope[]>().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokeReason: text('revoke_reason'),
    /** Set on the old key when it is rolled: the key that replaced it. */
    replacedById: uuid('replaced_by_id'),
    /** Set on the new key when it was issued by a roll: the key it replaced. */
    rolledFromId: uuid('rolled_from_id'),
    /**
     * The one workspace the key may reach: the owner's user id (personal) or an organisation
     * id; null for an unbound key (every workspace its owner reaches).
     */
    workspaceId: uuid('workspace_id'),
  },
  (t) => [
    uniqueIndex('api_keys_public_id_key').on(t.publicId),
    index('api_keys_user_idx').on(t.userId, t.createdAt),
  ],
);

/** Addresses each key has been used from (first sighting goes to the security log). */
export const apiKeyAddresses = pgTable(
  'api_key_addresses',
  {
    keyId: uuid('key_id')
      .notNull()
      .references(() => apiKeys.id, { onDelete: 'cascade' }),
    address: text('address').notNull(),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.address] })],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type NewApiKeyRow = typeof apiKeys.$inferInsert;
