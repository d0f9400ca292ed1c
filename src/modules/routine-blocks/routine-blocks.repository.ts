import { and, asc, desc, eq, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { inWorkspaces } from '../workspaces/workspace.repository.ts';
import { type RoutineBlockRow, routineBlocks } from './routine-blocks.table.ts';

export async function listRoutineBlockRows(
  db: Executor,
  f: {
    workspaceIds: readonly string[];
    date?: string | undefined;
    templateId?: string | undefined;
    categoryId?: string | undefined;
    limit: number;
    offset: number;
  },
): Promise<RoutineBlockRow[]> {
  const where: SQL[] = [inWorkspaces(routineBlocks.workspaceId, f.workspaceIds)];
  if (f.date) where.push(eq(routineBlocks.date, f.date));
  if (f.templateId) where.push(eq(routineBlocks.templateId, f.templateId));
  if (f.categoryId) where.push(eq(routineBlocks.categoryId, f.categoryId));
  return db
    .select()
    .from(routineBlocks)
    .where(and(...where))
    .orderBy(desc(routineBlocks.updatedAt), asc(routineBlocks.id))
    .limit(f.limit)
    .offset(f.offset);
}

export async function findRoutineBlockRow(
  db: Executor,
  input: { id: string; workspaceIds: readonly string[]; forUpdate?: boolean },
): Promise<RoutineBlockRow | undefined> {
  const query = db
    .select()
    .from(routineBlocks)
    .where(
      and(
        eq(routineBlocks.id, input.id),
        inWorkspaces(routineBlocks.workspaceId, input.workspaceIds),
      ),
    )
    .limit(1);
  const rows = input.forUpdate ? await query.for('update') : await query;
  return rows[0];
}

export async function insertRoutineBlock(
  db: Executor,
  values: typeof routineBlocks.$inferInsert,
): Promise<RoutineBlockRow> {
  const rows = await db.insert(routineBlocks).values(values).returning();
  return rows[0] as RoutineBlockRow;
}

export async function updateRoutineBlockRow(
  db: Executor,
  id: string,
  values: Partial<typeof routineBlocks.$inferInsert>,
): Promise<RoutineBlockRow | undefined> {
  const rows = await db
    .update(routineBlocks)
    .set(values)
    .where(eq(routineBlocks.id, id))
    .returning();
  return rows[0];
}

export async function deleteRoutineBlockRow(db: Executor, id: string): Promise<void> {
  await db.delete(routineBlocks).where(eq(routineBlocks.id, id));
}
