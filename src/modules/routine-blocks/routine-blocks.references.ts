import type { CategoryEntityType } from '../categories/categories.table.ts';
import { tagColumnHolder } from '../tags/tags.service.ts';
import { routineBlocks } from './routine-blocks.table.ts';

/** Routine blocks and templates reference categories of their own type (foreign key). */
export const routineBlockCategoryHolder = tagColumnHolder<CategoryEntityType>(
  routineBlocks.categoryId,
  ['routine_block', 'routine_template'],
);
