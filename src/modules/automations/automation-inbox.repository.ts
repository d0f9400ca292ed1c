import { and, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import {
  type InboxEventRow,
  inboxEvents,
  integrationConnections,
  linearTeamLinks,
} from '../integrations/integrations.table.ts';

/**
 * The engine's side of the inbox (the table belongs to integrations; its contract is in
 * docs/integrations.md). Claiming uses `FOR UPDATE SKIP LOCKED` so any number of workers in
 * any number of processes share the rows without blocking each other, plus a lease so a
 * crashed worker's rows come back.
 */
export async function claimInboxEvents(
  db: Executor,
  input: { workerId: string; batch: number; leaseMs: number },
): Promise<InboxEventRow[]> {
  const due = db
    .select({ id: inboxEvents.id })
    .from(inboxEvents)
    .where(
      or(
        and(eq(inboxEvents.state, 'pending'), lte(inboxEvents.nextAttemptAt, sql`now()`)),
        and(eq(inboxEvents.state, 'processing'), lt(inboxEvents.lockedUntil, sql`now()`)),
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

export async function markInboxProcessed(db: Executor, id: string): Promise<void> {
  await db
    .update(inboxEvents)
    .set({
      state: 'processed',
      processedAt: sql`now()`,
      lockedUntil: null,
      lockedBy: null,
      lastError: null,
    })
    .where(eq(inboxEvents.id, id));
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

export async function findConnection(db: Executor, id: string) {
  const [row] = await db
    .select({
      id: integrationConnections.id,
      provider: integrationConnections.provider,
      organisationId: integrationConnections.organisationId,
      userId: integrationConnections.userId,
      connectedByUserId: integrationConnections.connectedByUserId,
      status: integrationConnections.status,
    })
    .from(integrationConnections)
    .where(eq(integrationConnections.id, id));
  return row;
}

export async function listWorkspaceConnectionIds(
  db: Executor,
  workspace: { organisationId: string | null; userId: string | null },
): Promise<string[]> {
  const rows = await db
    .select({ id: integrationConnections.id })
    .from(integrationConnections)
    .where(
      workspace.organisationId
        ? eq(integrationConnections.organisationId, workspace.organisationId)
        : eq(integrationConnections.userId, workspace.userId ?? ''),
    );
  return rows.map((r) => r.id);
}

/** Containers linked to any of these Linear teams through this connection. */
export async function listTeamLinks(
  db: Executor,
  input: { connectionId: string; teamIds: readonly string[] },
) {
  if (input.teamIds.length === 0) return [];
  return db
    .select()
    .from(linearTeamLinks)
    .where(
      and(
        eq(linearTeamLinks.connectionId, input.connectionId),
        inArray(linearTeamLinks.teamId, input.teamIds),
      ),
    );
}

export async function findWorkspaceConnection(
  db: Executor,
  workspace: { organisationId: string | null; userId: string | null },
  provider: 'linear' | 'notion',
): Promise<string | null> {
  const [row] = await db
    .select({ id: integrationConnections.id })
    .from(integrationConnections)
    .where(
      and(
        eq(integrationConnections.provider, provider),
        workspace.organisationId
          ? eq(integrationConnections.organisationId, workspace.organisationId)
          : eq(integrationConnections.userId, workspace.userId ?? ''),
      ),
    );
  return row?.id ?? null;
}
