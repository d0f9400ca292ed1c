import { type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from './database.ts';

/**
 * Deletes at most `limit` rows of `table` matching `where`, in one short autocommitted
 * statement (retention: a large delete would hold row locks and bloat one transaction).
 * `SKIP LOCKED` passes over rows a worker holds, so a delete never waits for the worker and
 * the worker never waits for the delete; what is skipped goes in a later batch. Rows are
 * addressed by `ctid`, which the outer delete reaches by a TID scan.
 */
export async function deleteBatch(
  db: Executor,
  input: { table: PgTable; where: SQL; limit: number },
): Promise<number> {
  const result = (await db.execute(sql`
    with gone as (
      delete from ${input.table}
      where ctid = any(array(
        select ctid from ${input.table} where ${input.where}
        limit ${input.limit} for update skip locked))
      returning 1
    )
    select count(*)::int as n from gone`)) as unknown as { rows: Array<{ n: number }> };
  return result.rows[0]?.n ?? 0;
}

/** A time as a `timestamptz` parameter (the same text on every driver). */
export const at = (time: Date): SQL => sql`${time.toISOString()}::timestamptz`;
