import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

/** Areas of life or work; they hold projects. */
export const containers = pgTable(
  'containers',
  {
    ...workspaceColumns(),
    name: text('name').notNull(),
    description: text('description'),
  },
  (t) => [
    index('containers_ws_order_idx').on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
  ],
);

export type ContainerRow = typeof containers.$inferSelect;
