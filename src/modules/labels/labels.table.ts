import { type TagRow, tagTable } from '../tags/tags.table.ts';

export const labelEntityTypes = ['project', 'task'] as const;
export type LabelEntityType = (typeof labelEntityTypes)[number];

export const labels = tagTable('labels', labelEntityTypes);
export type LabelRow = TagRow<typeof labelEntityTypes>;
