import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Shared call budgets of provider connections when there is no Redis (`REDIS_URL` unset):
 * one row per key (`linear:<connection id>`, `notion:<connection id>`), holding the earliest
 * time the next call for that key may start. Every instance reserves its slot here, so the
 * pacing and the waits after a provider's rate limit hold across processes.
 */
export const providerBudgets = pgTable('provider_budgets', {
  key: text('key').primaryKey(),
  nextAt: timestamp('next_at', { withTimezone: true, precision: 3 }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
