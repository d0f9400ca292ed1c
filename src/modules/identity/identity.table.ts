import { sql } from 'drizzle-orm';
import { bigint, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

/**
 * People, organisations and memberships, mirrored from Clerk. Rows are soft-deleted
 * (`deleted_at`) so that a late, out-of-order webhook can see a tombstone and not resurrect
 * what Clerk deleted. `clerk_event_at` is the time of the newest Clerk event applied to the row
 * (Svix timestamp, ms); older events are ignored.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clerkId: text('clerk_id').notNull(),
    email: text('email'),
    firstName: text('first_name'),
    lastName: text('last_name'),
    imageUrl: text('image_url'),
    clerkEventAt: bigint('clerk_event_at', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('users_clerk_id_key').on(t.clerkId),
    index('users_email_idx').on(sql`lower(${t.email})`),
  ],
);

export const organisations = pgTable(
  'organisations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clerkId: text('clerk_id').notNull(),
    name: text('name').notNull(),
    slug: text('slug'),
    imageUrl: text('image_url'),
    clerkEventAt: bigint('clerk_event_at', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /**
     * `clerk`: mirrored from Clerk (webhooks, verified sessions), `clerk_id` is Clerk's id.
     * `api`: created with POST /api/v1/organisations; `clerk_id` is then the creator's own
     * external id, unique per creator, and Clerk events and sessions never match the row.
     */
    source: text('source', { enum: ['clerk', 'api'] })
      .notNull()
      .default('clerk'),
    createdBy: uuid('created_by').references(() => users.id),
  },
  (t) => [
    uniqueIndex('organisations_clerk_id_key').on(t.clerkId).where(sql`${t.source} = 'clerk'`),
    uniqueIndex('organisations_api_id_key')
      .on(t.createdBy, t.clerkId)
      .where(sql`${t.source} = 'api'`),
  ],
);

export const memberships = pgTable(
  'memberships',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    clerkId: text('clerk_id'),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    organisationId: uuid('organisation_id')
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    /** Clerk role key, e.g. `org:admin` or `org:member`. */
    role: text('role').notNull(),
    clerkEventAt: bigint('clerk_event_at', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('memberships_user_org_key').on(t.userId, t.organisationId),
    index('memberships_org_idx').on(t.organisationId),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type OrganisationRow = typeof organisations.$inferSelect;
export type MembershipRow = typeof memberships.$inferSelect;

/**
 * Clerk (Svix) deliveries already applied, keyed by `svix-id` (the same on every retry of a
 * message): a redelivery is acknowledged without a second effect. Rows older than the
 * retention window (docs/identity.md) are pruned; Svix stops retrying after about 28 h.
 */
export const clerkWebhookDeliveries = pgTable(
  'clerk_webhook_deliveries',
  {
    svixId: text('svix_id').primaryKey(),
    eventType: text('event_type').notNull(),
    /** Event time used for ordering (ms): Clerk's envelope `timestamp`, else `svix-timestamp`. */
    eventAt: bigint('event_at', { mode: 'number' }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('clerk_webhook_deliveries_received_at_idx').on(t.receivedAt)],
);
