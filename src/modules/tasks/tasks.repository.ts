import { and, asc, desc, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { type PgColumn, unionAll } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { preparedFor } from '../workspaces/prepared.ts';
import { inWorkspaces } from '../workspaces/workspace.repository.ts';
import { type InboxTriage, type TaskBucket, type TaskRow, tasks } from './tasks.table.ts';

export interface Range<T> {
  eq?: T | undefined;
  gte?: T | undefined;
  lte?: T | undefined;
}

export interface TaskFilter {
  workspaceIds: readonly string[];
  bucket?: TaskBucket | undefined;
  inboxTriage?: InboxTriage | undefined;
  projectId?: string | undefined;
  categoryId?: string | undefined;
  containerId?: string | undefined;
  assigneeId?: string | undefined;
  routineBlockId?: string | undefined;
  doDate?: Range<string>;
  dueDate?: Range<string>;
  doEndDate?: Range<string>;
  scheduledAt?: Range<number>;
  limit: number;
  offset: number;
}

function pushRange<T extends string | number>(
  where: SQL[],
  column: PgColumn,
  range: Range<T> | undefined,
) {
  if (!range) return;
  if (range.eq !== undefined) where.push(eq(column, range.eq));
  if (range.gte !== undefined) where.push(gte(column, range.gte));
  if (range.lte !== undefined) where.push(lte(column, range.lte));
}

function taskListWhere(f: TaskFilter, workspaceIds: readonly string[]): SQL | undefined {
  const where: SQL[] = [inWorkspaces(tasks.workspaceId, workspaceIds)];
  if (f.bucket) where.push(eq(tasks.bucket, f.bucket));
  if (f.inboxTriage) where.push(eq(tasks.inboxTriage, f.inboxTriage));
  if (f.projectId) where.push(eq(tasks.projectId, f.projectId));
  if (f.categoryId) where.push(eq(tasks.categoryId, f.categoryId));
  if (f.containerId) where.push(eq(tasks.containerId, f.containerId));
  if (f.assigneeId) where.push(eq(tasks.assigneeId, f.assigneeId));
  if (f.routineBlockId) where.push(eq(tasks.routineBlockId, f.routineBlockId));
  pushRange(where, tasks.doDate, f.doDate);
  pushRange(where, tasks.dueDate, f.dueDate);
  pushRange(where, tasks.doEndDate, f.doEndDate);
  pushRange(where, tasks.scheduledAt, f.scheduledAt);
  return and(...where);
}

/** Above this many workspaces the per-workspace branches stop paying off. */
const MAX_BRANCHES = 32;

/**
 * The list query (not yet run, so that tests can EXPLAIN exactly what the API runs).
 * One workspace: an equality on workspace_id, read in order from the filter's index.
 * Several: one ordered, limited branch per workspace (each an index range read of at most
 * offset + limit rows) merged by UNION ALL; `workspace_id = ANY(...)` would make Postgres
 * sort every visible row, or scan the table, to serve the first page.
 */
export function taskListQuery(db: Executor, f: TaskFilter) {
  const order = [desc(tasks.updatedAt), asc(tasks.id)] as const;
  if (f.workspaceIds.length <= 1 || f.workspaceIds.length > MAX_BRANCHES) {
    return db
      .select()
      .from(tasks)
      .where(taskListWhere(f, f.workspaceIds))
      .orderBy(...order)
      .limit(f.limit)
      .offset(f.offset);
  }
  const [first, second, ...rest] = f.workspaceIds.map((workspaceId) =>
    db
      .select()
      .from(tasks)
      .where(taskListWhere(f, [workspaceId]))
      .orderBy(...order)
      .limit(f.limit + f.offset),
  );
  // Length ≥ 2 is checked above.
  return unionAll(first as NonNullable<typeof first>, second as NonNullable<typeof second>, ...rest)
    .orderBy(...order)
    .limit(f.limit)
    .offset(f.offset);
}

export async function listTaskRows(db: Executor, f: TaskFilter): Promise<TaskRow[]> {
  return taskListQuery(db, f);
}

/** The get-by-id query with placeholders `id` and `workspaceIds` (the baseline runs it too). */
export function findTaskQuery(db: Executor) {
  return db
    .select()
    .from(tasks)
    .where(
      and(
        eq(tasks.id, sql.placeholder('id')),
        sql`${tasks.workspaceId} = any(${sql.placeholder('workspaceIds')}::uuid[])`,
      ),
    )
    .limit(1);
}

const preparedFindTask = preparedFor((db) => findTaskQuery(db).prepare('tasks_find_by_id'));

export async function findTaskRow(
  db: Executor,
  input: { id: string; workspaceIds: readonly string[]; forUpdate?: boolean },
): Promise<TaskRow | undefined> {
  if (input.forUpdate) {
    const rows = await db
      .select()
      .from(tasks)
      .where(and(eq(tasks.id, input.id), inWorkspaces(tasks.workspaceId, input.workspaceIds)))
      .limit(1)
      .for('update');
    return rows[0];
  }
  const params = { id: input.id, workspaceIds: [...input.workspaceIds] };
  const prepared = preparedFindTask(db);
  const rows = prepared ? await prepared.execute(params) : await findTaskQuery(db).execute(params);
  return rows[0];
}

export async function insertTask(
  db: Executor,
  values: typeof tasks.$inferInsert,
): Promise<TaskRow> {
  const rows = await db.insert(tasks).values(values).returning();
  return rows[0] as TaskRow;
}

export async function updateTaskRow(
  db: Executor,
  id: string,
  values: Partial<typeof tasks.$inferInsert>,
): Promise<TaskRow | undefined> {
  const rows = await db.update(tasks).set(values).where(eq(tasks.id, id)).returning();
  return rows[0];
}

/** Rows by id, locked for the rest of the transaction (the engine's batched sync). */
export async function findTaskRowsForUpdate(
  db: Executor,
  ids: readonly string[],
): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(tasks)
    .where(inArray(tasks.id, [...ids]))
    .for('update');
}

/** Inserts already-resolved rows in one statement (the engine's batched sync). */
export async function insertTaskRows(
  db: Executor,
  rows: ReadonlyArray<typeof tasks.$inferInsert>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(tasks).values([...rows]);
}

/** The fields a provider sync owns, written to many rows in one statement. */
export type SyncedTaskColumns = Pick<
  TaskRow,
  | 'id'
  | 'title'
  | 'notes'
  | 'bucket'
  | 'doneAt'
  | 'dueDate'
  | 'projectId'
  | 'assigneeId'
  | 'updatedAt'
>;

export async function updateSyncedTaskRows(
  db: Executor,
  rows: readonly SyncedTaskColumns[],
): Promise<void> {
  if (rows.length === 0) return;
  const values = rows.map((r) => ({
    id: r.id,
    title: r.title,
    notes: r.notes,
    bucket: r.bucket,
    done_at: r.doneAt,
    due_date: r.dueDate,
    project_id: r.projectId,
    assignee_id: r.assigneeId,
    updated_at: r.updatedAt,
  }));
  await db.execute(sql`
    update tasks t set
      title = v.title, notes = v.notes, bucket = v.bucket, done_at = v.done_at,
      due_date = v.due_date, project_id = v.project_id, assignee_id = v.assignee_id,
      updated_at = v.updated_at
    from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(
      id uuid, title text, notes text, bucket text, done_at bigint, due_date date,
      project_id uuid, assignee_id uuid, updated_at bigint)
    where t.id = v.id`);
}

export async function deleteTaskRow(db: Executor, id: string): Promise<void> {
  await db.delete(tasks).where(eq(tasks.id, id));
}

/** A project's tasks follow it into another container. */
export async function moveProjectTasks(
  db: Executor,
  input: { projectId: string; containerId: string; now: number },
): Promise<void> {
  await db
    .update(tasks)
    .set({ containerId: input.containerId, updatedAt: input.now })
    .where(eq(tasks.projectId, input.projectId));
}
