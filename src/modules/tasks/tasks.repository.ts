import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gte,
  inArray,
  lte,
  Placeholder,
  type SQL,
  sql,
} from 'drizzle-orm';
import { type PgColumn, PgTransaction, unionAll } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Db, Executor } from '../../db/database.ts';
import { insertRows } from '../../db/json-rows.ts';
import { poolOf, preparedFor } from '../../db/prepared.ts';
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

/** The equality filters of a list, by column: the ones a prepared list statement binds. */
const equalityFilters = {
  bucket: tasks.bucket,
  inboxTriage: tasks.inboxTriage,
  projectId: tasks.projectId,
  categoryId: tasks.categoryId,
  containerId: tasks.containerId,
  assigneeId: tasks.assigneeId,
  routineBlockId: tasks.routineBlockId,
} as const;
type EqualityFilter = keyof typeof equalityFilters;
const equalityNames = Object.keys(equalityFilters) as EqualityFilter[];

function taskListWhere(f: TaskFilter, workspaceIds: readonly string[]): SQL | undefined {
  const where: SQL[] = [inWorkspaces(tasks.workspaceId, workspaceIds)];
  for (const name of equalityNames) {
    const value = f[name];
    if (value) where.push(eq(equalityFilters[name], value));
  }
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

const hasRange = (r: Range<unknown> | undefined) =>
  r !== undefined && (r.eq !== undefined || r.gte !== undefined || r.lte !== undefined);

/**
 * The statement shape of a list request that can be prepared: its workspace count and the
 * equality filters it uses. Range filters are left to the builder: a prepared statement's
 * generic plan cannot see their bounds (`due_date >= $1` could match a day or everything).
 */
function preparableShape(f: TaskFilter): { key: string; filters: EqualityFilter[] } | undefined {
  const n = f.workspaceIds.length;
  if (n === 0 || n > MAX_BRANCHES) return undefined;
  if (hasRange(f.doDate) || hasRange(f.dueDate) || hasRange(f.doEndDate)) return undefined;
  if (hasRange(f.scheduledAt)) return undefined;
  const filters = equalityNames.filter((name) => f[name]);
  return { key: `${n}:${filters.join(',')}`, filters };
}

/** `taskListQuery` with every value a placeholder (`ws0`.., the filters, `limit`, `offset`). */
function taskListStatement(db: Db, workspaces: number, filters: readonly EqualityFilter[]) {
  const order = [desc(tasks.updatedAt), asc(tasks.id)] as const;
  const where = (workspace: number) =>
    and(
      eq(tasks.workspaceId, sql.placeholder(`ws${workspace}`)),
      ...filters.map((name) => eq(equalityFilters[name], sql.placeholder(name))),
    );
  const limit = sql.placeholder('limit');
  const offset = sql.placeholder('offset');
  if (workspaces === 1)
    return db
      .select()
      .from(tasks)
      .where(where(0))
      .orderBy(...order)
      .limit(limit)
      .offset(offset);
  const branches = Array.from({ length: workspaces }, (_, i) =>
    db
      .select()
      .from(tasks)
      .where(where(i))
      .orderBy(...order)
      .limit(sql.placeholder('window')),
  );
  const [first, second, ...rest] = branches;
  return unionAll(first as NonNullable<typeof first>, second as NonNullable<typeof second>, ...rest)
    .orderBy(...order)
    .limit(limit)
    .offset(offset);
}

/**
 * The statement a preparable list request runs (values as placeholders) and its values, or
 * undefined when the request is not preparable (the EXPLAIN test plans it generically).
 */
export function taskListStatementOf(db: Db, f: TaskFilter) {
  const shape = preparableShape(f);
  if (!shape) return undefined;
  const params: Record<string, unknown> = {
    limit: f.limit,
    offset: f.offset,
    window: f.limit + f.offset,
  };
  f.workspaceIds.forEach((id, i) => {
    params[`ws${i}`] = id;
  });
  for (const name of shape.filters) params[name] = f[name];
  return {
    key: shape.key,
    params,
    build: () => taskListStatement(db, f.workspaceIds.length, shape.filters),
  };
}

/** A list statement ready to run: its name, SQL, and its placeholders in parameter order. */
interface ListStatement {
  name: string;
  text: string;
  placeholders: string[];
}

/** Shapes prepared per database; past this many, further shapes run through the builder. */
const MAX_PREPARED_SHAPES = 200;
const listStatements = new WeakMap<Db, Map<string, ListStatement>>();

function listStatementFor(db: Db, statement: NonNullable<ReturnType<typeof taskListStatementOf>>) {
  let byShape = listStatements.get(db);
  if (!byShape) {
    byShape = new Map();
    listStatements.set(db, byShape);
  }
  let prepared = byShape.get(statement.key);
  if (!prepared && byShape.size < MAX_PREPARED_SHAPES) {
    const { sql: text, params } = statement.build().toSQL();
    prepared = {
      name: `tasks_list_${byShape.size}`,
      text,
      placeholders: params.map((p) => (p instanceof Placeholder ? p.name : '')),
    };
    byShape.set(statement.key, prepared);
  }
  return prepared;
}

// Row values as Postgres sends them, but `date` as its text (drizzle's mode: 'string').
const rawDates = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.DATE
      ? (value: string) => value
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const columnIndex = Object.fromEntries(
  Object.keys(getTableColumns(tasks)).map((name, i) => [name, i]),
) as Record<keyof TaskRow, number>;
const epochMs = (value: unknown) => (value === null ? null : Number(value));

/** A row of `select * from tasks` (array mode, `rawDates`) as drizzle would map it. */
function taskRowOf(row: unknown[]): TaskRow {
  const at = <K extends keyof TaskRow>(name: K) => row[columnIndex[name]] as TaskRow[K];
  return {
    id: at('id'),
    userId: at('userId'),
    organisationId: at('organisationId'),
    workspaceId: at('workspaceId'),
    createdAt: Number(at('createdAt')),
    updatedAt: Number(at('updatedAt')),
    title: at('title'),
    notes: at('notes'),
    doneAt: epochMs(at('doneAt')),
    projectId: at('projectId'),
    categoryId: at('categoryId'),
    containerId: at('containerId'),
    bucket: at('bucket'),
    inboxTriage: at('inboxTriage'),
    routineBlockId: at('routineBlockId'),
    assigneeId: at('assigneeId'),
    doDate: at('doDate'),
    doEndDate: at('doEndDate'),
    dueDate: at('dueDate'),
    scheduledAt: epochMs(at('scheduledAt')),
    labelIds: at('labelIds'),
  };
}

/**
 * Preparable list requests on Postgres run as named statements (Postgres parses and plans
 * each once per connection; the SQL is built once per process) and their rows are mapped by
 * hand: drizzle's generic row mapping cost more than the rest of the list's own work. In a
 * transaction, on the embedded database, for other shapes or past MAX_PREPARED_SHAPES, the
 * builder runs the same query.
 */
export async function listTaskRows(db: Executor, f: TaskFilter): Promise<TaskRow[]> {
  const client = db instanceof PgTransaction ? undefined : poolOf(db);
  const statement = client ? taskListStatementOf(db, f) : undefined;
  const prepared = statement && listStatementFor(db, statement);
  if (!client || !statement || !prepared) return taskListQuery(db, f);
  const result = await client.query<unknown[]>({
    name: prepared.name,
    text: prepared.text,
    values: prepared.placeholders.map((name) => statement.params[name]),
    rowMode: 'array',
    types: rawDates,
  });
  return result.rows.map(taskRowOf);
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

/**
 * Already-resolved rows inserted in one statement (the engine's batched sync); undefined when
 * there is nothing to write. Sent with the batch's other writes (`executeTogether`).
 */
export function insertTaskRowsStatement(
  db: Executor,
  rows: ReadonlyArray<typeof tasks.$inferInsert>,
): SQL | undefined {
  return rows.length === 0 ? undefined : insertRows(db, tasks, rows).getSQL();
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

/** The synced fields of many tasks in one statement (undefined: nothing to write). */
export function updateSyncedTaskRowsStatement(rows: readonly SyncedTaskColumns[]): SQL | undefined {
  if (rows.length === 0) return undefined;
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
  return sql`
    update tasks t set
      title = v.title, notes = v.notes, bucket = v.bucket, done_at = v.done_at,
      due_date = v.due_date, project_id = v.project_id, assignee_id = v.assignee_id,
      updated_at = v.updated_at
    from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(
      id uuid, title text, notes text, bucket text, done_at bigint, due_date date,
      project_id uuid, assignee_id uuid, updated_at bigint)
    where t.id = v.id`;
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
