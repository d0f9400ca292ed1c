import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';

export interface TableSize {
  table: string;
  rows: number;
  bytes: number;
}

/**
 * The size of every table of the schema, from the catalog alone (no table is scanned):
 * `reltuples` is the planner's estimate (-1 before the first analyze, reported as 0) and
 * `pg_total_relation_size` counts indexes and TOAST.
 */
export async function readTableSizes(db: Executor): Promise<TableSize[]> {
  const result = (await db.execute(sql`
    select c.relname as "table",
           greatest(c.reltuples, 0)::float8 as rows,
           pg_total_relation_size(c.oid)::float8 as bytes
    from pg_class c
    join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname = current_schema()`)) as unknown as {
    rows: TableSize[];
  };
  return result.rows.map((r) => ({ table: r.table, rows: Number(r.rows), bytes: Number(r.bytes) }));
}
