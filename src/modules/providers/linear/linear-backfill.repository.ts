import { and, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { at, deleteBatch } from '../../../db/batch-delete.ts';
import type { Executor } from '../../../db/database.ts';
import { type LinearBackfillRow, linearBackfills, linearTeamLinks } from './linear.table.ts';

/**
 * Creates a pending backfill for every team link that has none yet and was never backfilled
 * (a new link): a finished backfill deleted by retention leaves `backfilled_at` behind.
 */
export async function ensureBackfillsForLinks(db: Executor): Promise<number> {
  const rows = await db
    .insert(linearBackfills)
    .select(
      db
        .select({
          id: sql<string>`gen_random_uuid()`.as('id'),
          linkId: linearTeamLinks.id,
          containerId: linearTeamLinks.containerId,
          connectionId: linearTeamLinks.connectionId,
          teamId: linearTeamLinks.teamId,
          status: sql<'pending'>`'pending'`.as('status'),
          phase: sql<'projects'>`'projects'`.as('phase'),
          cursor: sql<string | null>`null`.as('cursor'),
          pages: sql<number>`0`.as('pages'),
          items: sql<number>`0`.as('items'),
          attempts: sql<number>`0`.as('attempts'),
          nextAttemptAt: sql<Date>`now()`.as('next_attempt_at'),
          lockedUntil: sql<Date | null>`null`.as('locked_until'),
          lockedBy: sql<string | null>`null`.as('locked_by'),
          lastError: sql<string | null>`null`.as('last_error'),
          startedAt: sql<Date | null>`null`.as('started_at'),
          finishedAt: sql<Date | null>`null`.as('finished_at'),
          createdAt: sql<Date>`now()`.as('created_at'),
          updatedAt: sql<Date>`now()`.as('updated_at'),
        })
        .from(linearTeamLinks)
        .where(
          and(
            isNull(linearTeamLinks.backfilledAt),
            sql`not exists (select 1 from ${linearBackfills} b where b.link_id = ${linearTeamLinks.id})`,
          ),
        ),
    )
    .onConflictDoNothing()
    .returning({ id: linearBackfills.id });
  return rows.length;
}

/** Claims one due backfill with a lease (a crashed process's backfill resumes elsewhere). */
export async function claimBackfill(
  db: Executor,
  input: { workerId: string; leaseMs: number },
): Promise<LinearBackfillRow | undefined> {
  const due = db
    .select({ id: linearBackfills.id })
    .from(linearBackfills)
    .where(
      and(
        or(
          and(
            eq(linearBackfills.status, 'pending'),
            lte(linearBackfills.nextAttemptAt, sql`now()`),
          ),
          and(eq(linearBackfills.status, 'running'), lt(linearBackfills.lockedUntil, sql`now()`)),
        ),
        // A connection waiting for reauthorization resumes once an admin reconnects it.
        sql`not exists (select 1 from integration_connections c
          where c.id = ${linearBackfills.connectionId} and c.status = 'reauthorization_required')`,
      ),
    )
    .orderBy(linearBackfills.nextAttemptAt)
    .limit(1)
    .for('update', { skipLocked: true });
  const [row] = await db
    .update(linearBackfills)
    .set({
      status: 'running',
      attempts: sql`${linearBackfills.attempts} + 1`,
      lockedUntil: sql`now() + make_interval(secs => ${input.leaseMs / 1000})`,
      lockedBy: input.workerId,
      startedAt: sql`coalesce(${linearBackfills.startedAt}, now())`,
      updatedAt: sql`now()`,
    })
    .where(inArray(linearBackfills.id, due))
    .returning();
  return row;
}

/** Commits a page's progress (in the page's transaction) and extends the lease. */
export async function saveBackfillProgress(
  db: Executor,
  input: {
    id: string;
    phase: 'projects' | 'issues';
    cursor: string | null;
    items: number;
    leaseMs: number;
  },
): Promise<void> {
  await db
    .update(linearBackfills)
    .set({
      phase: input.phase,
      cursor: input.cursor,
      pages: sql`${linearBackfills.pages} + 1`,
      items: sql`${linearBackfills.items} + ${input.items}`,
      lockedUntil: sql`now() + make_interval(secs => ${input.leaseMs / 1000})`,
      updatedAt: sql`now()`,
    })
    .where(eq(linearBackfills.id, input.id));
}

/** Marks the backfill done and its link backfilled (call in the page's transaction). */
export async function finishBackfill(db: Executor, id: string): Promise<void> {
  await db
    .update(linearTeamLinks)
    .set({ backfilledAt: sql`now()` })
    .where(
      eq(
        linearTeamLinks.id,
        sql`(select ${linearBackfills.linkId} from ${linearBackfills} where ${linearBackfills.id} = ${id})`,
      ),
    );
  await db
    .update(linearBackfills)
    .set({
      status: 'done',
      finishedAt: sql`now()`,
      lockedUntil: null,
      lockedBy: null,
      lastError: null,
      updatedAt: sql`now()`,
    })
    .where(eq(linearBackfills.id, id));
}

export async function failBackfill(
  db: Executor,
  input: { id: string; error: string; delayMs: number; dead: boolean },
): Promise<void> {
  await db
    .update(linearBackfills)
    .set({
      status: input.dead ? 'failed' : 'pending',
      nextAttemptAt: sql`now() + make_interval(secs => ${input.delayMs / 1000})`,
      lockedUntil: null,
      lockedBy: null,
      lastError: input.error.slice(0, 2000),
      updatedAt: sql`now()`,
    })
    .where(eq(linearBackfills.id, input.id));
}

export async function listBackfillsOfConnections(
  db: Executor,
  connectionIds: readonly string[],
): Promise<LinearBackfillRow[]> {
  if (connectionIds.length === 0) return [];
  return db
    .select()
    .from(linearBackfills)
    .where(inArray(linearBackfills.connectionId, connectionIds))
    .orderBy(sql`${linearBackfills.createdAt} desc`);
}

/** Hands a running backfill back (stopped between pages), due now for any process. */
/**
 * Hands a running backfill back, due at `at` (default now). `refundAttempt`: the stop was not
 * a failure (a rate-limit reset to wait for, a connection waiting for reauthorization), so
 * the claim does not count as an attempt.
 */
export async function releaseBackfill(
  db: Executor,
  id: string,
  options: { at?: Date; refundAttempt?: boolean } = {},
): Promise<void> {
  await db
    .update(linearBackfills)
    .set({
      status: 'pending',
      nextAttemptAt: options.at ?? sql`now()`,
      ...(options.refundAttempt
        ? { attempts: sql`greatest(${linearBackfills.attempts} - 1, 0)` }
        : {}),
      lockedUntil: null,
      lockedBy: null,
      updatedAt: sql`now()`,
    })
    .where(eq(linearBackfills.id, id));
}

export async function findTeamLinkById(db: Executor, id: string) {
  const [row] = await db.select().from(linearTeamLinks).where(eq(linearTeamLinks.id, id));
  return row;
}

/** Retention: backfills that finished (`done`) before `before`; failed ones stay visible. */
export function pruneFinishedBackfills(
  db: Executor,
  input: { before: Date; limit: number },
): Promise<number> {
  return deleteBatch(db, {
    table: linearBackfills,
    where: sql`${linearBackfills.status} = 'done' and ${linearBackfills.finishedAt} < ${at(input.before)}`,
    limit: input.limit,
  });
}
