import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';

/**
 * What happened to keys, connections and automations (the security log). Rows are written in
 * the transaction of the change they record and never updated. `user_id` is the person whose
 * log shows the entry (a key's owner, the member who changed a connection); `organisation_id`
 * additionally shows it to that organisation's admins. `at` is epoch ms.
 * No secret ever goes in here: targets are ids, details are names, reasons and URLs.
 */
export const securityEvents = pgTable(
  'security_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: bigint('at', { mode: 'number' }).notNull(),
    userId: uuid('user_id'),
    organisationId: uuid('organisation_id'),
    /** users.id of the person who acted; null when the system acted (see `cause`). */
    actorUserId: uuid('actor_user_id'),
    /** Why the system acted: user_deletion, leak_report, membership_end, ... */
    cause: text('cause'),
    action: text('action').notNull(),
    targetType: text('target_type').notNull(),
    targetId: text('target_id').notNull(),
    address: text('address'),
    userAgent: text('user_agent'),
    details: jsonb('details').$type<Record<string, string | number | boolean | null>>(),
  },
  (t) => [
    index('security_events_user_idx').on(t.userId, t.at, t.id),
    index('security_events_organisation_idx')
      .on(t.organisationId, t.at, t.id)
      .where(sql`${t.organisationId} is not null`),
    index('security_events_at_idx').on(t.at),
  ],
);

export type SecurityEventRow = typeof securityEvents.$inferSelect;
export type NewSecurityEventRow = typeof securityEvents.$inferInsert;
