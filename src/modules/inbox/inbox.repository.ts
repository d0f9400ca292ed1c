import { and, eq, inArray, lt, lte, max, or, sql } from 'drizzle-orm';
import { at, deleteBatch } from '../../db/batch-delete.ts';
import type { Executor } from '../../db/database.ts';
import type { ProviderId } from '../integrations/integrations.table.ts';
import { type InboxEventRow, inboxEvents } from './inbox.table.ts';

export interface NewInboxEvent {
  provider: ProviderId;
  deliveryId: string;
  /** Derived from signed content only (see `inbox_events.dedupe_key`). */
  dedupeKey: string;
  connectionId: string;
  eventType: string;
  entityType: string | null;
  entityId: string | null;
  teamId: string | null;
  occurredAt: string | null;
  /** The verified raw JSON text; Postgres parses it into jsonb (no re-serialisation here). */
  payloadJson: string;
}

/** What identifies an inbox row for dedupe: its unique key `(provider, connection, dedupe key)`. */
export function inboxDedupeIdentity(
  e: Pick<NewInboxEvent, 'provider' | 'connectionId' | 'dedupeKey'>,
) {
  return `${e.provider}\u0000${e.connectionId.toLowerCase()}\u0000${e.dedupeKey}`;
}

/**
 * Inserts verified events in one autocommitted statement, skipping duplicates. Returns the
 * rows inserted with their dedupe identity, so a caller that gathered the events of several
 * deliveries (InboxGroupCommit) can tell each delivery what became of its own. Deliberately
 * no NOTIFY here: a notifying transaction takes Postgres' global notify-queue lock through
 * its commit, which serialises webhook commits (measured: p50 x2 and a third less throughput
 * at 500/s). Wake-ups are sent after commit, coalesced (see InboxIntake.onInboxEvents).
 */
export async function insertInboxEvents(
  db: Executor,
  events: readonly NewInboxEvent[],
): Promise<Array<{ id: string; identity: string }>> {
  if (events.length === 0) return [];
  const values = sql.join(
    events.map(
      (e) =>
        sql`(${e.provider}, ${e.deliveryId}, ${e.dedupeKey}, ${e.connectionId}::uuid, ${e.eventType}, ${e.entityType}, ${e.entityId}, ${e.teamId}, ${e.occurredAt}::timestamptz, ${e.payloadJson}::jsonb)`,
    ),
    sql`, `,
  );
  const result = (await db.execute(sql`
    with ins as (
      insert into inbox_events
        (provider, delivery_id, dedupe_key, connection_id, event_type, entity_type, entity_id, team_id, occurred_at, payload)
      values ${values}
      on conflict (provider, connection_id, dedupe_key) do nothing
      returning id, provider, connection_id, dedupe_key
    )
    select id::text as id, provider, connection_id::text as connection_id, dedupe_key from ins`)) as unknown as {
    rows: Array<{ id: string; provider: ProviderId; connection_id: string; dedupe_key: string }>;
  };
  return result.rows.map((r) => ({
    id: r.id,
    identity: inboxDedupeIdentity({
      provider: r.provider,
      connectionId: r.connection_id,
      dedupeKey: r.dedupe_key,
    }),
  }));
}

/**
 * Claiming uses `FOR UPDATE SKIP LOCKED` so any number of workers in
 * any number of processes share the rows without blocking each other, plus a lease so a
 * crashed worker's rows come back. Events of a connection waiting for reauthorization are
 * not claimed (they stay pending, attempts untouched) until an admin reconnects it.
 */
export async function claimInboxEvents(
  db: Executor,
  input: { workerId: string; batch: number; leaseMs: number },
): Promise<InboxEventRow[]> {
  const due = db
    .select({ id: inboxEvents.id })
    .from(inboxEvents)
    .where(
      and(
        or(
          and(eq(inboxEvents.state, 'pending'), lte(inboxEvents.nextAttemptAt, sql`now()`)),
          and(eq(inboxEvents.state, 'processing'), lt(inboxEvents.lockedUntil, sql`now()`)),
        ),
        sql`not exists (select 1 from integration_connections c
          where c.id = ${inboxEvents.connectionId} and c.status = 'reauthorization_required')`,
      ),
    )
    .orderBy(inboxEvents.nextAttemptAt)
    .limit(input.batch)
    .for('update', { skipLocked: true });
  const rows = await db
    .update(inboxEvents)
    .set({
      state: 'processing',
      attempts: sql`${inboxEvents.attempts} + 1`,
      lockedUntil: sql`now() + make_interval(secs => ${input.leaseMs / 1000})`,
      lockedBy: input.workerId,
    })
    .where(inArray(inboxEvents.id, due))
    .returning();
  // Oldest provider time first: events of one entity are then applied in order.
  return rows.sort(
    (a, b) =>
      (a.occurredAt?.getTime() ?? a.receivedAt.getTime()) -
      (b.occurredAt?.getTime() ?? b.receivedAt.getTime()),
  );
}

/**
 * A connection was reconnected after waiting for reauthorization: its pending events (some
 * were put off while it waited) are due now.
 */
export async function resumeConnectionEvents(db: Executor, connectionId: string): Promise<number> {
  const rows = await db
    .update(inboxEvents)
    .set({ nextAttemptAt: sql`now()` })
    .where(and(eq(inboxEvents.connectionId, connectionId), eq(inboxEvents.state, 'pending')))
    .returning({ id: inboxEvents.id });
  return rows.length;
}

/** Marks the rows of an applied batch processed (one statement, in the batch's transaction). */
export async function markInboxProcessed(db: Executor, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await markInboxProcessedQuery(db, ids);
}

/** `markInboxProcessed`'s statement, to send alone or inside another one (as a CTE). */
export function markInboxProcessedQuery(db: Executor, ids: readonly string[]) {
  return db
    .update(inboxEvents)
    .set({
      state: 'processed',
      processedAt: sql`now()`,
      lockedUntil: null,
      lockedBy: null,
      lastError: null,
    })
    .where(inArray(inboxEvents.id, [...ids]));
}

export async function scheduleInboxRetry(
  db: Executor,
  input: { id: string; workerId: string; delayMs: number; error: string },
): Promise<void> {
  await db
    .update(inboxEvents)
    .set({
      state: 'pending',
      nextAttemptAt: sql`now() + make_interval(secs => ${input.delayMs / 1000})`,
      lockedUntil: null,
      lockedBy: null,
      lastError: input.error.slice(0, 2000),
    })
    .where(and(eq(inboxEvents.id, input.id), eq(inboxEvents.lockedBy, input.workerId)));
}

/** Dead letter: the engine gave up; visible in settings and replayable. */
export async function deadLetterInbox(
  db: Executor,
  input: { id: string; workerId: string; error: string },
): Promise<void> {
  await db
    .update(inboxEvents)
    .set({
      state: 'failed',
      lockedUntil: null,
      lockedBy: null,
      lastError: input.error.slice(0, 2000),
    })
    .where(and(eq(inboxEvents.id, input.id), eq(inboxEvents.lockedBy, input.workerId)));
}

/** Puts events back in the queue, due now, with a fresh attempt budget. */
export async function requeueInboxEvents(db: Executor, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .update(inboxEvents)
    .set({
      state: 'pending',
      attempts: 0,
      nextAttemptAt: sql`now()`,
      lockedUntil: null,
      lockedBy: null,
      lastError: null,
    })
    .where(and(inArray(inboxEvents.id, ids), sql`${inboxEvents.state} <> 'processing'`))
    .returning({ id: inboxEvents.id });
  return rows.map((r) => r.id);
}

export async function findInboxEvent(db: Executor, id: string) {
  const [row] = await db.select().from(inboxEvents).where(eq(inboxEvents.id, id));
  return row;
}

/** Inbox events of the given connections (a workspace's), newest first. */
export async function listInboxEventsOfConnections(
  db: Executor,
  input: {
    connectionIds: readonly string[];
    state?: string | undefined;
    limit: number;
    offset: number;
  },
): Promise<InboxEventRow[]> {
  if (input.connectionIds.length === 0) return [];
  const conditions = [inArray(inboxEvents.connectionId, input.connectionIds)];
  if (input.state) conditions.push(eq(inboxEvents.state, input.state as InboxEventRow['state']));
  return db
    .select()
    .from(inboxEvents)
    .where(and(...conditions))
    .orderBy(sql`${inboxEvents.receivedAt} desc`, inboxEvents.id)
    .limit(input.limit)
    .offset(input.offset);
}

export async function lastInboxEventAt(db: Executor, connectionId: string): Promise<Date | null> {
  const [row] = await db
    .select({ at: max(inboxEvents.receivedAt) })
    .from(inboxEvents)
    .where(eq(inboxEvents.connectionId, connectionId));
  return row?.at ?? null;
}

export interface InboxStats {
  byState: Record<'pending' | 'processing' | 'failed', number>;
  oldestPendingAgeSeconds: number;
}

/**
 * Inbox depth for /metrics. Processed rows are never counted (there are many, until retention); the open
 * states are served by the partial indexes the claim query uses.
 */
export async function readInboxStats(db: Executor): Promise<InboxStats> {
  const rows = await db
    .select({
      state: inboxEvents.state,
      count: sql<number>`count(*)::int`,
      oldest: sql<string | null>`min(${inboxEvents.receivedAt})::text`,
    })
    .from(inboxEvents)
    .where(sql`${inboxEvents.state} in ('pending', 'processing', 'failed')`)
    .groupBy(inboxEvents.state);
  const byState = { pending: 0, processing: 0, failed: 0 };
  let oldest: number | undefined;
  for (const row of rows) {
    if (row.state === 'pending' || row.state === 'processing' || row.state === 'failed')
      byState[row.state] = row.count;
    if ((row.state === 'pending' || row.state === 'processing') && row.oldest) {
      const at = Date.parse(row.oldest);
      if (!Number.isNaN(at)) oldest = oldest === undefined ? at : Math.min(oldest, at);
    }
  }
  return {
    byState,
    oldestPendingAgeSeconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
  };
}

/**
 * Retention of the inbox: processed events after `processedBefore` (their `processed_at`),
 * dead-lettered ones whose last attempt (`next_attempt_at`) is before `failedBefore`. Pending
 * and processing events are never deleted (a replayed dead letter is pending again). Deleting
 * an event deletes its runs (cascade).
 */
export function pruneInboxEvents(
  db: Executor,
  input: { processedBefore: Date; failedBefore: Date; limit: number },
): Promise<number> {
  return deleteBatch(db, {
    table: inboxEvents,
    where: sql`(${inboxEvents.state} = 'processed' and ${inboxEvents.processedAt} < ${at(input.processedBefore)})
      or (${inboxEvents.state} = 'failed' and ${inboxEvents.nextAttemptAt} < ${at(input.failedBefore)})`,
    limit: input.limit,
  });
}
