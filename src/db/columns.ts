import { integer, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The lease every queue table shares (inbox events, Linear backfills, the Linear sync outbox):
 * a row is due once `next_attempt_at <= now()`; a worker claims it by setting `locked_by` and
 * `locked_until`, and a lease past `locked_until` (a crashed worker) may be claimed again.
 * `attempts` counts claims, `last_error` says why the last one failed.
 */
export const leaseColumns = () => ({
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
  lockedBy: text('locked_by'),
  lastError: text('last_error'),
});

/** `created_at` / `updated_at` as timestamps set by the database. */
export const timestampColumns = () => ({
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
