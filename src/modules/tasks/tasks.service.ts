import type { Executor } from '../../db/database.ts';
import { notFound } from '../../http/errors.ts';
import { assertCategoryFor } from '../categories/categories.service.ts';
import { findVisibleContainer } from '../containers/containers.service.ts';
import { linksByEntity, removeExternalLinksOf } from '../external-links/external-links.service.ts';
import { assertLabelsFor } from '../labels/labels.service.ts';
import { findVisibleProject } from '../projects/projects.service.ts';
import { assertRoutineBlockForTask } from '../routine-blocks/routine-blocks.service.ts';
import { isLiveMember } from '../workspaces/workspace.repository.ts';
import {
  type Actor,
  assertMayMoveOut,
  idOrNoMatch,
  invalidReference,
  isUuid,
  nowMs,
  organisationForWrite,
  organisationOfWorkspace,
  pathId,
  visibleWorkspaceIds,
  workspaceKey,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import {
  deleteTaskRow,
  findTaskRow,
  insertTask,
  listTaskRows,
  type TaskFilter,
  updateTaskRow,
} from './tasks.repository.ts';
import type { Task, TaskCreate, TaskListQuery, TaskUpdate } from './tasks.schemas.ts';
import type { TaskRow, tasks } from './tasks.table.ts';

export function presentTaskRow(r: TaskRow, links: Task['externalLinks']): Task {
  return {
    _id: r.id,
    userId: r.userId,
    title: r.title,
    notes: r.notes,
    doneAt: r.doneAt,
    projectId: r.projectId,
    categoryId: r.categoryId,
    containerId: r.containerId,
    bucket: r.bucket,
    inboxTriage: r.inboxTriage,
    routineBlockId: r.routineBlockId,
    assigneeId: r.assigneeId,
    doDate: r.doDate,
    doEndDate: r.doEndDate,
    dueDate: r.dueDate,
    scheduledAt: r.scheduledAt,
    organisationId: r.organisationId,
    labelIds: r.labelIds,
    externalLinks: links,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

async function present(db: Executor, rows: TaskRow[]): Promise<Task[]> {
  const links = await linksByEntity(
    db,
    'task',
    rows.map((r) => r.id),
  );
  return rows.map((r) => presentTaskRow(r, links.get(r.id) ?? []));
}

async function presentOne(db: Executor, row: TaskRow): Promise<Task> {
  const [item] = await present(db, [row]);
  return item as Task;
}

const optionalId = (value: string | undefined) =>
  value === undefined ? undefined : idOrNoMatch(value);

/** The repository filter of a list request (workspaces resolved, malformed ids matching none). */
export async function taskFilterFor(
  db: Executor,
  actor: Actor,
  query: TaskListQuery,
): Promise<TaskFilter> {
  const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
  return {
    workspaceIds,
    bucket: query.bucket,
    inboxTriage: query.inboxTriage,
    projectId: optionalId(query.projectId),
    categoryId: optionalId(query.categoryId),
    containerId: optionalId(query.containerId),
    assigneeId: optionalId(query.assigneeId),
    routineBlockId: optionalId(query.routineBlockId),
    doDate: { eq: query.doDateEq, gte: query.doDateGte, lte: query.doDateLte },
    dueDate: { eq: query.dueDateEq, gte: query.dueDateGte, lte: query.dueDateLte },
    doEndDate: { eq: query.doEndDateEq, gte: query.doEndDateGte, lte: query.doEndDateLte },
    scheduledAt: { eq: query.scheduledAtEq, gte: query.scheduledAtGte, lte: query.scheduledAtLte },
    limit: query.limit,
    offset: query.offset,
  };
}

export async function listTasks(db: Executor, actor: Actor, query: TaskListQuery): Promise<Task[]> {
  const rows = await listTaskRows(db, await taskFilterFor(db, actor, query));
  return present(db, rows);
}

export async function getTask(db: Executor, actor: Actor, id: string): Promise<Task> {
  const row = await findTaskRow(db, {
    id: pathId(id, 'Task'),
    workspaceIds: visibleWorkspaceIds(actor),
  });
  if (!row) throw notFound('Task');
  return presentOne(db, row);
}

type TaskValues = Omit<typeof tasks.$inferInsert, 'id' | 'userId' | 'createdAt' | 'updatedAt'>;

const lower = (v: string | null | undefined) => (typeof v === 'string' ? v.toLowerCase() : v);

/**
 * The integrity rules of a task, applied to its state after a create or update:
 * - the project (if any) must be visible; the task joins its workspace and container, and an
 *   explicit `containerId` or `organisationId` that disagrees is a 400;
 * - otherwise a container (if any) decides the workspace, else `organisationId`;
 * - category (entity type task), labels (task), routine block (a `routine` block, not a
 *   `schedule` one) must be of that workspace; the assignee must be a member of it;
 * - `bucket: done` sets `doneAt` (now, unless given); any other bucket clears it.
 * `changed` lists the fields this request set, so that an unrelated edit does not fail on a
 * reference that has since become invalid (e.g. an assignee who left the organisation).
 */
async function resolveTask(
  tx: Executor,
  actor: Actor,
  input: {
    existing: TaskRow | undefined;
    body: TaskCreate | TaskUpdate;
    ownerId: string;
  },
): Promise<TaskValues> {
  const { existing, body } = input;
  const pick = <K extends keyof TaskUpdate & keyof TaskRow>(key: K) =>
    body[key] !== undefined ? body[key] : existing?.[key];

  const projectId = lower(pick('projectId') as string | null | undefined) ?? null;
  let containerId = lower(pick('containerId') as string | null | undefined) ?? null;
  const explicitOrg = await organisationForWrite(tx, actor, body.organisationId);

  let workspaceId: string;
  if (projectId) {
    const project = await findVisibleProject(tx, actor, projectId);
    if (!project) throw invalidReference('projectId', 'project not found');
    if (body.containerId && lower(body.containerId) !== project.containerId) {
      throw invalidReference('containerId', 'does not match the project’s container');
    }
    if (explicitOrg !== undefined && explicitOrg !== project.organisationId) {
      throw invalidReference('organisationId', 'does not match the project’s workspace');
    }
    workspaceId = project.workspaceId;
    containerId = project.containerId;
  } else if (containerId) {
    const container = isUuid(containerId)
      ? await findVisibleContainer(tx, actor, containerId)
      : undefined;
    if (!container) throw invalidReference('containerId', 'container not found');
    if (explicitOrg !== undefined && explicitOrg !== container.organisationId) {
      throw invalidReference('organisationId', 'does not match the container’s workspace');
    }
    workspaceId = container.workspaceId;
  } else if (explicitOrg !== undefined) {
    workspaceId = workspaceKey(actor, explicitOrg);
  } else {
    workspaceId = existing?.workspaceId ?? workspaceKey(actor, null);
  }
  const organisationId =
    existing && workspaceId === existing.workspaceId
      ? existing.organisationId
      : organisationOfWorkspace(actor, workspaceId);
  const workspaceChanged = existing !== undefined && workspaceId !== existing.workspaceId;
  if (existing && workspaceChanged)
    assertMayMoveOut(actor, { ...existing, creatorId: existing.userId });
  const mustCheck = (key: keyof TaskUpdate) =>
    !existing || workspaceChanged || body[key] !== undefined;

  const categoryId = lower(pick('categoryId') as string | null | undefined) ?? null;
  if (categoryId && mustCheck('categoryId')) {
    await assertCategoryFor(tx, { categoryId, workspaceId, entityTypes: ['task'] });
  }
  let labelIds = (pick('labelIds') as string[] | null | undefined) ?? [];
  if (mustCheck('labelIds')) {
    labelIds = await assertLabelsFor(tx, { labelIds, workspaceId, entityType: 'task' });
  }
  const routineBlockId = lower(pick('routineBlockId') as string | null | undefined) ?? null;
  if (routineBlockId && mustCheck('routineBlockId')) {
    await assertRoutineBlockForTask(tx, { routineBlockId, workspaceId });
  }
  const assigneeId = lower(pick('assigneeId') as string | null | undefined) ?? null;
  if (assigneeId && mustCheck('assigneeId')) {
    const ok =
      isUuid(assigneeId) &&
      (organisationId === null
        ? assigneeId === input.ownerId
        : await isLiveMember(tx, { userId: assigneeId, organisationId }));
    if (!ok) throw invalidReference('assigneeId', 'must be a member of the task’s workspace');
  }

  const doDate = (pick('doDate') as string | null | undefined) ?? null;
  const doEndDate = (pick('doEndDate') as string | null | undefined) ?? null;
  if (doDate && doEndDate && doEndDate < doDate) {
    throw invalidReference('doEndDate', 'must not be before doDate');
  }

  const bucket = (pick('bucket') as TaskRow['bucket'] | undefined) ?? 'new';
  let doneAt: number | null = null;
  if (bucket === 'done') {
    doneAt = body.doneAt ?? (existing?.bucket === 'done' ? existing.doneAt : null) ?? nowMs();
  }

  return {
    organisationId,
    workspaceId,
    title: (pick('title') as string | undefined) ?? '',
    notes: (pick('notes') as string | null | undefined) ?? null,
    doneAt,
    projectId,
    categoryId,
    containerId,
    bucket,
    inboxTriage: (pick('inboxTriage') as TaskRow['inboxTriage'] | undefined) ?? null,
    routineBlockId,
    assigneeId,
    doDate,
    doEndDate,
    dueDate: (pick('dueDate') as string | null | undefined) ?? null,
    scheduledAt: (pick('scheduledAt') as number | null | undefined) ?? null,
    labelIds,
  };
}

/**
 * Creates a task as `actor` (API or automation engine: pass a transaction to run inside it).
 * See `resolveTask` for the integrity rules; violations are 400s and write nothing.
 */
export async function createTask(db: Executor, actor: Actor, input: TaskCreate): Promise<Task> {
  return db.transaction(async (tx) => {
    const values = await resolveTask(tx, actor, {
      existing: undefined,
      body: input,
      ownerId: actor.userId,
    });
    const now = nowMs();
    const row = await insertTask(tx, {
      ...values,
      userId: actor.userId,
      createdAt: now,
      updatedAt: now,
    });
    // A row inserted a moment ago has no external links yet: no query for them.
    return presentTaskRow(row, []);
  });
}

/** Partial update (`null` clears); the row is locked so concurrent updates apply in turn. */
export async function updateTask(
  db: Executor,
  actor: Actor,
  id: string,
  patch: TaskUpdate,
): Promise<Task> {
  const taskId = pathId(id, 'Task');
  return db.transaction(async (tx) => {
    const existing = await findTaskRow(tx, {
      id: taskId,
      workspaceIds: visibleWorkspaceIds(actor),
      forUpdate: true,
    });
    if (!existing) throw notFound('Task');
    const values = await resolveTask(tx, actor, {
      existing,
      body: patch,
      ownerId: existing.userId,
    });
    const row = await updateTaskRow(tx, taskId, { ...values, updatedAt: nowMs() });
    if (!row) throw notFound('Task');
    return presentOne(tx, row);
  });
}

export async function deleteTask(db: Executor, actor: Actor, id: string): Promise<void> {
  const taskId = pathId(id, 'Task');
  await db.transaction(async (tx) => {
    const existing = await findTaskRow(tx, {
      id: taskId,
      workspaceIds: visibleWorkspaceIds(actor),
      forUpdate: true,
    });
    if (!existing) throw notFound('Task');
    await removeExternalLinksOf(tx, 'task', taskId);
    await deleteTaskRow(tx, taskId);
  });
}
