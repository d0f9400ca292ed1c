import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { inWorkspaces } from '../workspaces/workspace.repository.ts';
import { type LabelEntityType, type LabelRow, labels } from './labels.table.ts';

export async function listLabelRows(
  db: Executor,
  input: {
    workspaceIds: readonly string[];
    entityType?: LabelEntityType | undefined;
    limit: number;
    offset: number;
  },
): Promise<LabelRow[]> {
  const where: SQL[] = [inWorkspaces(labels.workspaceId, input.workspaceIds)];
  if (input.entityType) where.push(eq(labels.entityType, input.entityType));
  return db
    .select()
    .from(labels)
    .where(and(...where))
    .orderBy(desc(labels.updatedAt), asc(labels.id))
    .limit(input.limit)
    .offset(input.offset);
}

export async function findLabelRow(
  db: Executor,
  input: { id: string; workspaceIds: readonly string[] },
): Promise<LabelRow | undefined> {
  const rows = await db
    .select()
    .from(labels)
    .where(and(eq(labels.id, input.id), inWorkspaces(labels.workspaceId, input.workspaceIds)))
    .limit(1);
  return rows[0];
}

export async function findLabelRowsByIds(
  db: Executor,
  ids: readonly string[],
): Promise<LabelRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(labels)
    .where(inArray(labels.id, [...ids]));
}

export async function insertLabel(
  db: Executor,
  values: typeof labels.$inferInsert,
): Promise<LabelRow> {
  const rows = await db.insert(labels).values(values).returning();
  return rows[0] as LabelRow;
}

export async function updateLabelRow(
  db: Executor,
  id: string,
  values: Partial<typeof labels.$inferInsert>,
): Promise<LabelRow | undefined> {
  const rows = await db.update(labels).set(values).where(eq(labels.id, id)).returning();
  return rows[0];
}

export async function deleteLabelRow(db: Executor, id: string): Promise<void> {
  await db.delete(labels).where(eq(labels.id, id));
}
