import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import { externalItems } from '../../automations/automations.table.ts';
import { type LinearSyncOutboxRow, linearSyncOutbox } from './linear.table.ts';

/** Outbox field names (task columns) → the task fields the sync writes. */
const FIELD_KEYS = {
  title: 'title',
  notes: 'notes',
  bucket: 'bucket',
  due_date: 'dueDate',
  assignee_id: 'assigneeId',
} as const;
export type OutboxField = keyof typeof FIELD_KEYS;

type Rows<T> = { rows: T[] };

function isTransaction(db: Executor): boolean {
  return 'rollback' in db;
}

/**
 * Runs the sync's writes with `monoid.sync_origin = linear` for the transaction, so that the
 * outbox trigger does not push what came from Linear back to it. Needs a transaction (the
 * setting is transaction-local); a plain pool is wrapped in one.
 */
export async function withSyncOrigin<T>(
  db: Executor,
  fn: (tx: Executor) => Promise<T>,
): Promise<T> {
  if (!isTransaction(db)) return db.transaction((tx) => withSyncOrigin(tx, fn));
  await db.execute(sql`select set_config('monoid.sync_origin', 'linear', true)`);
  const result = await fn(db);
  await db.execute(sql`select set_config('monoid.sync_origin', '', true)`);
  return result;
}

/**
 * Last writer wins, by time, per field: fields changed in MONOid after Linear's version
 * `versionAt` and not pushed yet keep MONOid's value; a pending change older than it yields
 * to Linear (the row is dropped: Linear's answer is newer for every field it carries).
 */
export async function yieldToLocalChanges<F extends Record<string, unknown>>(
  db: Executor,
  taskId: string,
  versionAt: number,
  fields: F,
): Promise<Partial<F>> {
  await lockTaskBeforeOutbox(db, taskId);
  const [pending] = await db
    .select({ fields: linearSyncOutbox.fields, changedAt: linearSyncOutbox.changedAt })
    .from(linearSyncOutbox)
    .where(eq(linearSyncOutbox.taskId, taskId))
    .for('update');
  if (!pending) return fields;
  if (pending.changedAt <= versionAt) {
    await db.delete(linearSyncOutbox).where(eq(linearSyncOutbox.taskId, taskId));
    return fields;
  }
  const kept: Partial<F> = { ...fields };
  for (const f of pending.fields) {
    const key = FIELD_KEYS[f as OutboxField];
    if (key) delete kept[key as keyof F];
  }
  return kept;
}

/** Tasks among these with a local change waiting to be pushed (they take the per-event path). */
export async function listTasksWithPendingChanges(
  db: Executor,
  taskIds: readonly string[],
): Promise<Set<string>> {
  if (taskIds.length === 0) return new Set();
  const rows = await db
    .select({ taskId: linearSyncOutbox.taskId })
    .from(linearSyncOutbox)
    .where(inArray(linearSyncOutbox.taskId, [...taskIds]));
  return new Set(rows.map((r) => r.taskId));
}

/**
 * Takes the task's row lock before its outbox row's. A change through the API locks the task
 * row (its UPDATE) and then the outbox row (the trigger); the sync and the pusher must take
 * them in the same order, or the two deadlock.
 */
export async function lockTaskBeforeOutbox(db: Executor, taskId: string): Promise<void> {
  await db.execute(sql`select 1 from tasks where id = ${taskId} for no key update`);
}

/** Claims due outbox rows with a lease (any number of processes share the outbox). */
export async function claimOutbox(
  db: Executor,
  input: { workerId: string; batch: number; leaseMs: number },
): Promise<LinearSyncOutboxRow[]> {
  const rows = (await db.execute(sql`
    update linear_sync_outbox o
       set locked_until = now() + make_interval(secs => ${input.leaseMs / 1000}),
           locked_by = ${input.workerId},
           attempts = o.attempts + 1
     where o.task_id in (
       select task_id from linear_sync_outbox
        where state = 'pending' and next_attempt_at <= now()
          and (locked_until is null or locked_until < now())
        order by next_attempt_at
        limit ${input.batch}
        for update skip locked)
     returning o.task_id, o.fields, o.revision, o.attempts, o.changed_at`)) as unknown as Rows<
    Record<string, unknown>
  >;
  return rows.rows.map((r) => ({
    taskId: String(r.task_id),
    fields: r.fields as string[],
    revision: Number(r.revision),
    attempts: Number(r.attempts),
    changedAt: Number(r.changed_at),
  })) as LinearSyncOutboxRow[];
}

/** Milliseconds until the next pending row is due (null: none pending). */
export async function nextOutboxDueInMs(db: Executor): Promise<number | null> {
  const rows = (await db.execute(sql`
    select extract(epoch from (min(next_attempt_at) - now())) * 1000 as ms
      from linear_sync_outbox where state = 'pending'`)) as unknown as Rows<{
    ms: number | string | null;
  }>;
  const ms = rows.rows[0]?.ms;
  return ms === null || ms === undefined ? null : Math.max(0, Number(ms));
}

/**
 * Done with a pushed row: deleted when no change arrived during the push, else released
 * (the newer changes are pushed next, at once). `answeredAt`: the provider version of the
 * answer to this push; the changes that arrived during it are newer than that answer (it
 * carries the values pushed before them), so the row's time is moved past it and applying
 * the answer keeps them.
 */
export async function finishOutbox(
  db: Executor,
  input: { taskId: string; revision: number; answeredAt?: number },
): Promise<void> {
  const deleted = await db
    .delete(linearSyncOutbox)
    .where(
      and(eq(linearSyncOutbox.taskId, input.taskId), eq(linearSyncOutbox.revision, input.revision)),
    )
    .returning({ taskId: linearSyncOutbox.taskId });
  if (deleted.length === 0)
    await db
      .update(linearSyncOutbox)
      .set({
        lockedUntil: null,
        lockedBy: null,
        attempts: 0,
        nextAttemptAt: sql`now()`,
        changedAt: sql`greatest(${linearSyncOutbox.changedAt}, ${(input.answeredAt ?? 0) + 1})`,
      })
      .where(eq(linearSyncOutbox.taskId, input.taskId));
}

/** A failed push: retried after `delayMs`, or dead-lettered (`failed`) with the reason. */
export async function failOutbox(
  db: Executor,
  input: { taskId: string; error: string; dead: boolean; delayMs: number },
): Promise<void> {
  await db
    .update(linearSyncOutbox)
    .set({
      state: input.dead ? 'failed' : 'pending',
      lastError: input.error.slice(0, 1000),
      lockedUntil: null,
      lockedBy: null,
      nextAttemptAt: sql`now() + make_interval(secs => ${input.delayMs / 1000})`,
    })
    .where(eq(linearSyncOutbox.taskId, input.taskId));
}

/** Puts dead-lettered pushes back (a reconnect, a replay). Returns how many. */
export async function replayFailedOutbox(db: Executor): Promise<number> {
  const rows = await db
    .update(linearSyncOutbox)
    .set({ state: 'pending', attempts: 0, nextAttemptAt: sql`now()`, lastError: null })
    .where(eq(linearSyncOutbox.state, 'failed'))
    .returning({ taskId: linearSyncOutbox.taskId });
  return rows.length;
}

/** Records the provider version that the server's own push produced (its echo is skipped). */
export async function markPushedVersion(
  db: Executor,
  input: { itemId: string; externalId: string; versionAt: number },
): Promise<void> {
  await db
    .update(externalItems)
    .set({ pushedVersionAt: input.versionAt })
    .where(
      and(
        eq(externalItems.itemId, input.itemId),
        eq(externalItems.externalId, input.externalId),
        eq(externalItems.itemType, 'task'),
      ),
    );
}

export interface PushContext {
  taskId: string;
  title: string;
  notes: string | null;
  bucket: string;
  dueDate: string | null;
  assigneeEmail: string | null;
  assigneeId: string | null;
  issueId: string;
  containerId: string;
  teamId: string;
  sync: 'from_provider' | 'two_way';
  connectionId: string;
  organisationId: string | null;
  actingUserId: string | null;
}

/** Everything a push needs about a task, its Linear issue and its team link (one query). */
export async function loadPushContext(
  db: Executor,
  taskId: string,
): Promise<PushContext | undefined> {
  const rows = (await db.execute(sql`
    select t.id as task_id, t.title, t.notes, t.bucket, t.due_date, t.assignee_id,
           u.email as assignee_email, l.external_id as issue_id, tl.container_id,
           tl.team_id, tl.sync, tl.connection_id, c.organisation_id,
           coalesce(tl.created_by_user_id, c.connected_by_user_id, c.user_id) as acting_user_id
      from tasks t
      join external_links l on l.entity_type = 'task' and l.entity_id = t.id
                           and l.provider = 'linear' and l.container_id = t.container_id
      join linear_team_links tl on tl.container_id = l.container_id
      join integration_connections c on c.id = tl.connection_id
      left join users u on u.id = t.assignee_id
     where t.id = ${taskId}
     limit 1`)) as unknown as Rows<Record<string, unknown>>;
  const r = rows.rows[0];
  if (!r) return undefined;
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return {
    taskId: String(r.task_id),
    title: String(r.title),
    notes: str(r.notes),
    bucket: String(r.bucket),
    dueDate: str(r.due_date),
    assigneeId: str(r.assignee_id),
    assigneeEmail: str(r.assignee_email),
    issueId: String(r.issue_id),
    containerId: String(r.container_id),
    teamId: String(r.team_id),
    sync: r.sync === 'two_way' ? 'two_way' : 'from_provider',
    connectionId: String(r.connection_id),
    organisationId: str(r.organisation_id),
    actingUserId: str(r.acting_user_id),
  };
}
