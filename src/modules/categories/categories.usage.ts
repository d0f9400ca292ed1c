import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { projects } from '../projects/projects.table.ts';
import { routineBlocks } from '../routine-blocks/routine-blocks.table.ts';
import { tasks } from '../tasks/tasks.table.ts';
import type { CategoryEntityType } from './categories.table.ts';

/** Whether items of a type other than `newType` use the category (a type change would break them). */
export async function categoryInUseByOtherType(
  db: Executor,
  categoryId: string,
  newType: CategoryEntityType,
): Promise<boolean> {
  const checks: Array<Promise<unknown[]>> = [];
  if (newType !== 'project')
    checks.push(
      db.select({ one: sql`1` }).from(projects).where(eq(projects.categoryId, categoryId)).limit(1),
    );
  if (newType !== 'task')
    checks.push(
      db.select({ one: sql`1` }).from(tasks).where(eq(tasks.categoryId, categoryId)).limit(1),
    );
  if (newType !== 'routine_block' && newType !== 'routine_template')
    checks.push(
      db
        .select({ one: sql`1` })
        .from(routineBlocks)
        .where(eq(routineBlocks.categoryId, categoryId))
        .limit(1),
    );
  const results = await Promise.all(checks);
  return results.some((r) => r.length > 0);
}
