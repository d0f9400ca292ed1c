import { type AnyPgColumn, date, index, pgTable, smallint, text, uuid } from 'drizzle-orm/pg-core';
import { categories } from '../categories/categories.table.ts';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

export const blockTypes = ['routine', 'schedule'] as const;
export type BlockType = (typeof blockTypes)[number];

/**
 * Weekly template blocks (`day_of_week` set) and per-date overrides (`date` and `template_id`
 * set, storing only the fields that differ from the template; null = inherited).
 */
export const routineBlocks = pgTable(
  'routine_blocks',
  {
    ...workspaceColumns(),
    templateId: uuid('template_id').references((): AnyPgColumn => routineBlocks.id, {
      onDelete: 'cascade',
    }),
    dayOfWeek: smallint('day_of_week'),
    date: date('date', { mode: 'string' }),
    startTime: text('start_time'),
    endTime: text('end_time'),
    name: text('name'),
    categoryId: uuid('category_id').references(() => categories.id, { onDelete: 'set null' }),
    content: text('content'),
    blockType: text('block_type', { enum: blockTypes }),
    color: text('color'),
  },
  (t) => [
    index('routine_blocks_ws_order_idx').on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
    index('routine_blocks_ws_date_idx').on(t.workspaceId, t.date),
    index('routine_blocks_template_idx').on(t.templateId),
    index('routine_blocks_category_idx').on(t.categoryId),
  ],
);

export type RoutineBlockRow = typeof routineBlocks.$inferSelect;
