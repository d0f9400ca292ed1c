import { bigint, date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../identity/identity.table.ts';

export const reviewTypes = ['daily', 'weekly', 'monthly', 'quarterly', 'annual'] as const;
export type ReviewType = (typeof reviewTypes)[number];

/** Reviews belong to a user (no workspace): one per user, date and type. */
export const reviews = pgTable(
  'reviews',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    type: text('type', { enum: reviewTypes }).notNull(),
    wakeTime: text('wake_time'),
    sleepTime: text('sleep_time'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('reviews_user_date_type_key').on(t.userId, t.date, t.type),
    index('reviews_user_order_idx').on(t.userId, t.updatedAt.desc().nullsFirst(), t.id),
    index('reviews_user_type_idx').on(t.userId, t.type, t.updatedAt.desc().nullsFirst(), t.id),
  ],
);

export type ReviewRow = typeof reviews.$inferSelect;
