import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Periodic jobs that one instance at a time runs (retention): the row is both the lock and
 * the schedule. A runner takes it when the job is due (`next_run_at`) and nobody holds a
 * live lease (`locked_until`); it renews the lease while it works and, when done, frees it
 * and sets the next run. A runner that dies simply lets its lease expire.
 */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  lockedBy: text('locked_by'),
  lockedUntil: timestamp('locked_until', { withTimezone: true, precision: 3 }),
  nextRunAt: timestamp('next_run_at', { withTimezone: true, precision: 3 }).notNull(),
});
