import type { Executor } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import {
  type Actor,
  invalidReference,
  isUuid,
  nowMs,
  organisationForWrite,
  pathId,
  visibleWorkspaceIds,
  workspaceKey,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import {
  deleteCategoryRow,
  findCategoryRow,
  findCategoryRowsByIds,
  insertCategory,
  listCategoryRows,
  updateCategoryRow,
} from './categories.repository.ts';
import type {
  Category,
  CategoryCreate,
  CategoryListQuery,
  CategoryUpdate,
} from './categories.schemas.ts';
import type { CategoryRow } from './categories.table.ts';
import { categoryInUseByOtherType } from './categories.usage.ts';

export function presentCategory(r: CategoryRow): Category {
  return {
    _id: r.id,
    name: r.name,
    color: r.color,
    entityType: r.entityType,
    organisationId: r.organisationId,
  };
}

export async function listCategories(
  db: Executor,
  actor: Actor,
  query: CategoryListQuery,
): Promise<Category[]> {
  const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
  const rows = await listCategoryRows(db, {
    workspaceIds,
    entityType: query.entityType,
    limit: query.limit,
    offset: query.offset,
  });
  return rows.map(presentCategory);
}

export async function findVisibleCategory(
  db: Executor,
  actor: Actor,
  id: string,
): Promise<CategoryRow | undefined> {
  return findCategoryRow(db, { id, workspaceIds: visibleWorkspaceIds(actor) });
}

/** Categories by id (for expanding `category` on projects). */
export async function categoriesById(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, Category>> {
  const rows = await findCategoryRowsByIds(db, [...new Set(ids)]);
  return new Map(rows.map((r) => [r.id, presentCategory(r)]));
}

export async function getCategory(db: Executor, actor: Actor, id: string): Promise<Category> {
  const row = await findVisibleCategory(db, actor, pathId(id, 'Category'));
  if (!row) throw notFound('Category');
  return presentCategory(row);
}

export async function createCategory(
  db: Executor,
  actor: Actor,
  input: CategoryCreate,
): Promise<Category> {
  const organisationId = (await organisationForWrite(db, actor, input.organisationId)) ?? null;
  const now = nowMs();
  const row = await insertCategory(db, {
    userId: actor.userId,
    organisationId,
    workspaceId: workspaceKey(actor, organisationId),
    name: input.name,
    color: input.color ?? null,
    entityType: input.entityType,
    createdAt: now,
    updatedAt: now,
  });
  return presentCategory(row);
}

export async function updateCategory(
  db: Executor,
  actor: Actor,
  id: string,
  patch: CategoryUpdate,
): Promise<Category> {
  const categoryId = pathId(id, 'Category');
  return db.transaction(async (tx) => {
    const existing = await findVisibleCategory(tx, actor, categoryId);
    if (!existing) throw notFound('Category');
    if (
      patch.entityType !== undefined &&
      patch.entityType !== existing.entityType &&
      (await categoryInUseByOtherType(tx, categoryId, patch.entityType))
    ) {
      throw conflict('The category is in use by items of its current entity type.');
    }
    const row = await updateCategoryRow(tx, categoryId, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.color !== undefined ? { color: patch.color } : {}),
      ...(patch.entityType !== undefined ? { entityType: patch.entityType } : {}),
      updatedAt: nowMs(),
    });
    if (!row) throw notFound('Category');
    return presentCategory(row);
  });
}

/** Deletes a category; items that used it keep existing with `categoryId: null`. */
export async function deleteCategory(db: Executor, actor: Actor, id: string): Promise<void> {
  const categoryId = pathId(id, 'Category');
  const existing = await findVisibleCategory(db, actor, categoryId);
  if (!existing) throw notFound('Category');
  await deleteCategoryRow(db, categoryId);
}

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
    entityTypes: readonly CategoryRow['entityType'][];
    path?: string;
  },
): Promise<void> {
  const path = input.path ?? 'categoryId';
  const row = isUuid(input.categoryId)
    ? await findCategoryRow(db, { id: input.categoryId, workspaceIds: [input.workspaceId] })
    : undefined;
  if (!row) throw invalidReference(path, 'category not found in the item’s workspace');
  if (!input.entityTypes.includes(row.entityType)) {
    throw invalidReference(path, `category must have entityType ${input.entityTypes.join(' or ')}`);
  }
}
