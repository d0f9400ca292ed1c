import { sql } from 'drizzle-orm';
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { categories } from '../categories/categories.table.ts';
import { containers } from '../containers/containers.table.ts';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

export const projectStatuses = ['active', 'paused', 'done', 'backlog', 'cancelled'] as const;
export type ProjectStatus = (typeof projectStatuses)[number];

export const projects = pgTable(
  'projects',
  {
    ...workspaceColumns(),
    title: text('title').notNull(),
    description: text('description'),
    status: text('status', { enum: projectStatuses }).notNull().default('active'),
    // A container that still holds projects cannot be deleted: this key refuses it, and the
    // container service turns the refusal into a 409.
    containerId: uuid('container_id')
      .notNull()
      .references(() => containers.id, { onDelete: 'restrict' }),
    categoryId: uuid('category_id').references(() => categories.id, { onDelete: 'set null' }),
    // Label ids (labels of the same workspace, entity type `project`); a label's deletion
    // removes its id from every array (projects.references).
    labelIds: uuid('label_ids').array().notNull().default(sql`'{}'::uuid[]`),
  },
  (t) => [
    index('projects_ws_order_idx').on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
    index('projects_ws_status_idx').on(
      t.workspaceId,
      t.status,
      t.updatedAt.desc().nullsFirst(),
      t.id,
    ),
    index('projects_container_idx').on(t.containerId, t.updatedAt.desc().nullsFirst(), t.id),
    index('projects_category_idx').on(t.categoryId, t.updatedAt.desc().nullsFirst(), t.id),
    index('projects_ws_created_idx').on(t.workspaceId, t.createdAt),
    index('projects_labels_idx').using('gin', t.labelIds),
  ],
);

export type ProjectRow = typeof projects.$inferSelect;
