import { sql } from 'drizzle-orm';
import { bigint, date, index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { categories } from '../categories/categories.table.ts';
import { containers } from '../containers/containers.table.ts';
import { users } from '../identity/identity.table.ts';
import { projects } from '../projects/projects.table.ts';
import { routineBlocks } from '../routine-blocks/routine-blocks.table.ts';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

export const taskBuckets = [
  'backlog',
  'next_week',
  'new',
  'shaping',
  'todo',
  'in_progress',
  'in_review',
  'done',
  'cancelled',
] as const;
export type TaskBucket = (typeof taskBuckets)[number];
export const inboxTriages = ['this_week', 'next_week', 'this_month'] as const;
export type InboxTriage = (typeof inboxTriages)[number];

/**
 * Every list filter of the contract has an index that leads with the workspace (or with a
 * parent id, which implies one workspace) and, where the filter is an equality, continues with
 * the default order (updated_at desc, id), so `?bucket=todo&limit=100` reads 100 index entries.
 */
export const tasks = pgTable(
  'tasks',
  {
    ...workspaceColumns(),
    title: text('title').notNull(),
    notes: text('notes'),
    doneAt: bigint('done_at', { mode: 'number' }),
    projectId: uuid('project_id').references(() => projects.id, { onDelete: 'set null' }),
    categoryId: uuid('category_id').references(() => categories.id, { onDelete: 'set null' }),
    containerId: uuid('container_id').references(() => containers.id, { onDelete: 'set null' }),
    bucket: text('bucket', { enum: taskBuckets }).notNull().default('new'),
    inboxTriage: text('inbox_triage', { enum: inboxTriages }),
    routineBlockId: uuid('routine_block_id').references(() => routineBlocks.id, {
      onDelete: 'set null',
    }),
    assigneeId: uuid('assignee_id').references(() => users.id, { onDelete: 'set null' }),
    doDate: date('do_date', { mode: 'string' }),
    doEndDate: date('do_end_date', { mode: 'string' }),
    dueDate: date('due_date', { mode: 'string' }),
    scheduledAt: bigint('scheduled_at', { mode: 'number' }),
    labelIds: uuid('label_ids').array().notNull().default(sql`'{}'::uuid[]`),
  },
  (t) => [
    index('tasks_ws_order_idx').on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_ws_bucket_idx').on(t.workspaceId, t.bucket, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_ws_triage_idx')
      .on(t.workspaceId, t.inboxTriage, t.updatedAt.desc().nullsFirst(), t.id)
      .where(sql`${t.inboxTriage} is not null`),
    index('tasks_project_idx').on(t.projectId, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_container_idx').on(t.containerId, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_category_idx').on(t.categoryId, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_assignee_idx').on(t.assigneeId, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_routine_block_idx').on(t.routineBlockId, t.updatedAt.desc().nullsFirst(), t.id),
    index('tasks_ws_do_date_idx').on(t.workspaceId, t.doDate),
    index('tasks_ws_do_end_date_idx').on(t.workspaceId, t.doEndDate),
    index('tasks_ws_due_date_idx').on(t.workspaceId, t.dueDate),
    index('tasks_ws_scheduled_at_idx').on(t.workspaceId, t.scheduledAt),
  ],
);

export type TaskRow = typeof tasks.$inferSelect;
