import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { jobLeases } from './job-leases.table.ts';

/** Takes the job's lease when it is due and free (or expired); true when taken. */
export async function takeJobLease(
  db: Executor,
  input: { name: string; holder: string; now: Date; until: Date },
): Promise<boolean> {
  const rows = await db
    .insert(jobLeases)
    .values({
      name: input.name,
      lockedBy: input.holder,
      lockedUntil: input.until,
      nextRunAt: input.now,
    })
    .onConflictDoUpdate({
      target: jobLeases.name,
      set: { lockedBy: input.holder, lockedUntil: input.until },
      setWhere: sql`${jobLeases.nextRunAt} <= ${input.now} and (${jobLeases.lockedUntil} is null or ${jobLeases.lockedUntil} < ${input.now})`,
    })
    .returning({ name: jobLeases.name });
  return rows.length > 0;
}

/** Extends the lease; false when it was lost (expired and taken by another runner). */
export async function renewJobLease(
  db: Executor,
  input: { name: string; holder: string; until: Date },
): Promise<boolean> {
  const rows = await db
    .update(jobLeases)
    .set({ lockedUntil: input.until })
    .where(and(eq(jobLeases.name, input.name), eq(jobLeases.lockedBy, input.holder)))
    .returning({ name: jobLeases.name });
  return rows.length > 0;
}

/** Frees the lease; the job is next due at `nextRunAt`. */
export async function releaseJobLease(
  db: Executor,
  input: { name: string; holder: string; nextRunAt: Date },
): Promise<void> {
  await db
    .update(jobLeases)
    .set({ lockedBy: null, lockedUntil: null, nextRunAt: input.nextRunAt })
    .where(and(eq(jobLeases.name, input.name), eq(jobLeases.lockedBy, input.holder)));
}
