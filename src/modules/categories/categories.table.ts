import { type TagRow, tagTable } from '../tags/tags.table.ts';

export const categoryEntityTypes = [
  'project',
  'task',
  'routine_template',
  'routine_block',
] as const;
export type CategoryEntityType = (typeof categoryEntityTypes)[number];

export const categories = tagTable('categories', categoryEntityTypes);
export type CategoryRow = TagRow<typeof categoryEntityTypes>;
