import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { inWorkspaces } from '../workspaces/workspace.repository.ts';
import { type CategoryEntityType, type CategoryRow, categories } from './categories.table.ts';

export async function listCategoryRows(
  db: Executor,
  input: {
    workspaceIds: readonly string[];
    entityType?: CategoryEntityType | undefined;
    limit: number;
    offset: number;
  },
): Promise<CategoryRow[]> {
  const where: SQL[] = [inWorkspaces(categories.workspaceId, input.workspaceIds)];
  if (input.entityType) where.push(eq(categories.entityType, input.entityType));
  return db
    .select()
    .from(categories)
    .where(and(...where))
    .orderBy(desc(categories.updatedAt), asc(categories.id))
    .limit(input.limit)
    .offset(input.offset);
}

export async function findCategoryRow(
  db: Executor,
  input: { id: string; workspaceIds: readonly string[] },
): Promise<CategoryRow | undefined> {
  const rows = await db
    .select()
    .from(categories)
    .where(
      and(eq(categories.id, input.id), inWorkspaces(categories.workspaceId, input.workspaceIds)),
    )
    .limit(1);
  return rows[0];
}

export async function findCategoryRowsByIds(
  db: Executor,
  ids: readonly string[],
): Promise<CategoryRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(categories)
    .where(inArray(categories.id, [...ids]));
}

export async function insertCategory(
  db: Executor,
  values: typeof categories.$inferInsert,
): Promise<CategoryRow> {
  const rows = await db.insert(categories).values(values).returning();
  return rows[0] as CategoryRow;
}

export async function updateCategoryRow(
  db: Executor,
  id: string,
  values: Partial<typeof categories.$inferInsert>,
): Promise<CategoryRow | undefined> {
  const rows = await db.update(categories).set(values).where(eq(categories.id, id)).returning();
  return rows[0];
}

export async function deleteCategoryRow(db: Executor, id: string): Promise<void> {
  await db.delete(categories).where(eq(categories.id, id));
}
