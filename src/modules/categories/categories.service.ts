import type { Executor } from '../../db/database.ts';
import { type TagHolder, tagService } from '../tags/tags.service.ts';
import { invalidReference, isUuid } from '../workspaces/workspace.service.ts';
import { type CategoryEntityType, categories } from './categories.table.ts';

export const categoryService = tagService({ noun: 'Category', table: categories });
export type CategoryHolder = TagHolder<CategoryEntityType>;

/** Categories by id (for expanding `category` on projects). */
export const categoriesById = categoryService.byIds;

/**
 * Integrity rule for items that reference a category: it must exist in the item's workspace
 * and be of an allowed entity type; otherwise a 400 on `path` (never revealing other
 * workspaces' categories).
 */
export async function assertCategoryFor(
  db: Executor,
  input: {
    categoryId: string;
    workspaceId: string;
    entityTypes: readonly CategoryEntityType[];
    path?: string;
  },
): Promise<void> {
  const path = input.path ?? 'categoryId';
  const row = isUuid(input.categoryId)
    ? await categoryService.repo.find(db, {
        id: input.categoryId,
        workspaceIds: [input.workspaceId],
      })
    : undefined;
  if (!row) throw invalidReference(path, 'category not found in the item’s workspace');
  if (!input.entityTypes.includes(row.entityType)) {
    throw invalidReference(path, `category must have entityType ${input.entityTypes.join(' or ')}`);
  }
}
