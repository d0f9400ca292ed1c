import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from './database.ts';

/**
 * Runs data-modifying statements as one statement (one round trip): all but the last as CTEs
 * of the last (`with w0 as (...), w1 as (...) <last>`). Postgres runs them with one snapshot,
 * so none sees the others' rows: give it statements that write different rows (a foreign key
 * to a row inserted alongside is checked at the end of the statement, and holds). Empty
 * entries (nothing to write) are left out; nothing at all sends nothing.
 */
export async function executeTogether(
  db: Pick<Executor, 'execute'>,
  statements: ReadonlyArray<SQL | undefined>,
): Promise<void> {
  const parts = statements.filter((s): s is SQL => s !== undefined);
  const last = parts.pop();
  if (!last) return;
  if (parts.length === 0) {
    await db.execute(last);
    return;
  }
  const ctes = parts.map((part, i) => sql`${sql.identifier(`w${i}`)} as (${part})`);
  await db.execute(sql`with ${sql.join(ctes, sql`, `)} ${last}`);
}
