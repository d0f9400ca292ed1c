import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

export const labelEntityTypes = ['project', 'task'] as const;
export type LabelEntityType = (typeof labelEntityTypes)[number];

export const labels = pgTable(
  'labels',
  {
    ...workspaceColumns(),
    name: text('name').notNull(),
    color: text('color'),
    entityType: text('entity_type', { enum: labelEntityTypes }).notNull(),
  },
  (t) => [
    index('labels_ws_order_idx').on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
    index('labels_ws_type_idx').on(
      t.workspaceId,
      t.entityType,
      t.updatedAt.desc().nullsFirst(),
      t.id,
    ),
  ],
);

export type LabelRow = typeof labels.$inferSelect;
