import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import { holdsOrigin, withChangeOrigin } from '../../automations/automations.repository.ts';
import { externalItems } from '../../automations/automations.table.ts';
import type { ProviderId } from '../../integrations/integrations.table.ts';
import { type SyncOutboxRow, syncOutbox } from './sync-outbox.table.ts';

/** Outbox field names (task columns) → the task fields the sync writes. */
const FIELD_KEYS = {
  title: 'title',
  notes: 'notes',
  bucket: 'bucket',
  due_date: 'dueDate',
  do_date: 'doDate',
  assignee_id: 'assigneeId',
} as const;
export type OutboxField = keyof typeof FIELD_KEYS;

type Rows<T> = { rows: T[] };

/**
 * The two-way sync's outbox as one provider sees it: every provider's pusher claims, finishes
 * and dead-letters its own rows with the same machinery (lease, backoff, replay).
 */
export function syncOutboxFor(provider: ProviderId) {
  const mine = (taskId: string) =>
    and(eq(syncOutbox.taskId, taskId), eq(syncOutbox.provider, provider));

  /** The sync's own writes: not pushed back to the provider they came from. */
  const withSyncOrigin = <T>(db: Executor, fn: (tx: Executor) => Promise<T>): Promise<T> =>
    withChangeOrigin(db, provider, fn);
  /** Whether `db` already holds the sync's origin (its writes may then be sent later). */
  const holdsSyncOrigin = (db: Executor) => holdsOrigin(db, provider);

  /**
   * Last writer wins, by time, per field: fields changed in MONOid after the provider's
   * version `versionAt` and not pushed yet keep MONOid's value; a pending change older than it
   * yields to the provider (the row is dropped: the provider's state is newer for every field).
   */
  async function yieldToLocalChanges<F extends Record<string, unknown>>(
    db: Executor,
    taskId: string,
    versionAt: number,
    fields: F,
  ): Promise<Partial<F>> {
    await lockTaskBeforeOutbox(db, taskId);
    const [pending] = await db
      .select({ fields: syncOutbox.fields, changedAt: syncOutbox.changedAt })
      .from(syncOutbox)
      .where(mine(taskId))
      .for('update');
    if (!pending) return fields;
    if (pending.changedAt <= versionAt) {
      await db.delete(syncOutbox).where(mine(taskId));
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
  async function listTasksWithPendingChanges(
    db: Executor,
    taskIds: readonly string[],
  ): Promise<Set<string>> {
    if (taskIds.length === 0) return new Set();
    const rows = await db
      .select({ taskId: syncOutbox.taskId })
      .from(syncOutbox)
      .where(and(inArray(syncOutbox.taskId, [...taskIds]), eq(syncOutbox.provider, provider)));
    return new Set(rows.map((r) => r.taskId));
  }

  /** Claims due outbox rows with a lease (any number of processes share the outbox). */
  async function claimOutbox(
    db: Executor,
    input: { workerId: string; batch: number; leaseMs: number },
  ): Promise<SyncOutboxRow[]> {
    const rows = (await db.execute(sql`
      update linear_sync_outbox o
         set locked_until = now() + make_interval(secs => ${input.leaseMs / 1000}),
             locked_by = ${input.workerId},
             attempts = o.attempts + 1
       where o.provider = ${provider} and o.task_id in (
         select task_id from linear_sync_outbox
          where provider = ${provider} and state = 'pending' and next_attempt_at <= now()
            and (locked_until is null or locked_until < now())
          order by next_attempt_at
          limit ${input.batch}
          for update skip locked)
       returning o.task_id, o.fields, o.revision, o.attempts, o.changed_at`)) as unknown as Rows<
      Record<string, unknown>
    >;
    return rows.rows.map((r) => ({
      taskId: String(r.task_id),
      provider,
      fields: r.fields as string[],
      revision: Number(r.revision),
      attempts: Number(r.attempts),
      changedAt: Number(r.changed_at),
    })) as SyncOutboxRow[];
  }

  /** Milliseconds until the next pending row is due (null: none pending). */
  async function nextOutboxDueInMs(db: Executor): Promise<number | null> {
    const rows = (await db.execute(sql`
      select extract(epoch from (min(next_attempt_at) - now())) * 1000 as ms
        from linear_sync_outbox where state = 'pending' and provider = ${provider}`)) as unknown as Rows<{
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
  async function finishOutbox(
    db: Executor,
    input: { taskId: string; revision: number; answeredAt?: number },
  ): Promise<void> {
    const deleted = await db
      .delete(syncOutbox)
      .where(and(mine(input.taskId), eq(syncOutbox.revision, input.revision)))
      .returning({ taskId: syncOutbox.taskId });
    if (deleted.length === 0)
      await db
        .update(syncOutbox)
        .set({
          lockedUntil: null,
          lockedBy: null,
          attempts: 0,
          nextAttemptAt: sql`now()`,
          changedAt: sql`greatest(${syncOutbox.changedAt}, ${(input.answeredAt ?? 0) + 1})`,
        })
        .where(mine(input.taskId));
  }

  /** A failed push: retried after `delayMs`, or dead-lettered (`failed`) with the reason. */
  async function failOutbox(
    db: Executor,
    input: { taskId: string; error: string; dead: boolean; delayMs: number },
  ): Promise<void> {
    await db
      .update(syncOutbox)
      .set({
        state: input.dead ? 'failed' : 'pending',
        lastError: input.error.slice(0, 1000),
        lockedUntil: null,
        lockedBy: null,
        nextAttemptAt: sql`now() + make_interval(secs => ${input.delayMs / 1000})`,
      })
      .where(mine(input.taskId));
  }

  /** Puts dead-lettered pushes back (a reconnect, a replay). Returns how many. */
  async function replayFailedOutbox(db: Executor): Promise<number> {
    const rows = await db
      .update(syncOutbox)
      .set({ state: 'pending', attempts: 0, nextAttemptAt: sql`now()`, lastError: null })
      .where(and(eq(syncOutbox.state, 'failed'), eq(syncOutbox.provider, provider)))
      .returning({ taskId: syncOutbox.taskId });
    return rows.length;
  }

  /** Records the provider version that the server's own push produced (its echo is skipped). */
  async function markPushedVersion(
    db: Executor,
    input: { itemId: string; externalId: string; versionAt: number },
  ): Promise<void> {
    await db
      .update(externalItems)
      .set({ pushedVersionAt: input.versionAt })
      .where(
        and(
          eq(externalItems.provider, provider),
          eq(externalItems.itemId, input.itemId),
          eq(externalItems.externalId, input.externalId),
          eq(externalItems.itemType, 'task'),
        ),
      );
  }

  return {
    withSyncOrigin,
    holdsSyncOrigin,
    yieldToLocalChanges,
    listTasksWithPendingChanges,
    claimOutbox,
    nextOutboxDueInMs,
    finishOutbox,
    failOutbox,
    replayFailedOutbox,
    markPushedVersion,
  };
}

/**
 * Takes the task's row lock before its outbox row's. A change through the API locks the task
 * row (its UPDATE) and then the outbox row (the trigger); the sync and the pusher must take
 * them in the same order, or the two deadlock.
 */
export async function lockTaskBeforeOutbox(db: Executor, taskId: string): Promise<void> {
  await db.execute(sql`select 1 from tasks where id = ${taskId} for no key update`);
}

export const textOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));

/**
 * The part every provider's push context shares, from a row of its context query (columns
 * `task_id, title, bucket, due_date, sync, organisation_id, acting_user_id`).
 */
export function pushContextBase(r: Record<string, unknown>) {
  return {
    taskId: String(r.task_id),
    title: String(r.title),
    bucket: String(r.bucket),
    dueDate: textOrNull(r.due_date),
    sync: r.sync === 'two_way' ? ('two_way' as const) : ('from_provider' as const),
    organisationId: textOrNull(r.organisation_id),
    actingUserId: textOrNull(r.acting_user_id),
  };
}
