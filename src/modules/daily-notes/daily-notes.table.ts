import { bigint, date, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { users } from '../identity/identity.table.ts';

/** One note per user and date; the API addresses them by date. */
export const dailyNotes = pgTable(
  'daily_notes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    content: text('content'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('daily_notes_user_date_key').on(t.userId, t.date),
    index('daily_notes_user_order_idx').on(t.userId, t.updatedAt.desc().nullsFirst(), t.id),
  ],
);

export type DailyNoteRow = typeof dailyNotes.$inferSelect;
