import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { leaseColumns } from '../../../db/columns.ts';
import type { ProviderId } from '../../integrations/integrations.table.ts';
import { tasks } from '../../tasks/tasks.table.ts';

/**
 * The two-way sync's transactional outbox, shared by the providers: one row per task and
 * provider with changes to push (a Linear issue, a Notion page). A trigger on `tasks`
 * (migrations `*_linear_two_way.sql`, `*_notion_write_back.sql`) writes it in the transaction
 * of the change, for tasks whose link to the provider is `two_way`, unless the change is that
 * provider's own sync (`monoid.sync_origin` set). Several changes of one task coalesce into
 * the one row (`fields` is the union, `revision` counts them), so one call pushes them all.
 * Claimed with a lease like inbox rows, by each provider's pusher; `failed` = dead-lettered.
 * The table keeps its first name (`linear_sync_outbox`): renaming it buys nothing.
 */
export const syncOutbox = pgTable(
  'linear_sync_outbox',
  {
    taskId: uuid('task_id')
      .notNull()
      .references(() => tasks.id, { onDelete: 'cascade' }),
    provider: text('provider').$type<ProviderId>().notNull().default('linear'),
    /** Task columns changed since the last push (title, notes, bucket, due_date, ...). */
    fields: text('fields').array().notNull(),
    /** When the latest change was made in MONOid (ms): compared with the provider's version. */
    changedAt: bigint('changed_at', { mode: 'number' }).notNull(),
    revision: integer('revision').notNull().default(1),
    state: text('state', { enum: ['pending', 'failed'] })
      .notNull()
      .default('pending'),
    ...leaseColumns(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'linear_sync_outbox_pkey', columns: [t.taskId, t.provider] }),
    index('linear_sync_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
  ],
);

export type SyncOutboxRow = typeof syncOutbox.$inferSelect;
