import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

export const categoryEntityTypes = [
  'project',
  'task',
  'routine_template',
  'routine_block',
] as const;
export type CategoryEntityType = (typeof categoryEntityTypes)[number];

export const categories = pgTable(
  'categories',
  {
    ...workspaceColumns(),
    name: text('name').notNull(),
    color: text('color'),
    entityType: text('entity_type', { enum: categoryEntityTypes }).notNull(),
  },
  (t) => [
    index('categories_ws_order_idx').on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
    index('categories_ws_type_idx').on(
      t.workspaceId,
      t.entityType,
      t.updatedAt.desc().nullsFirst(),
      t.id,
    ),
  ],
);

export type CategoryRow = typeof categories.$inferSelect;
