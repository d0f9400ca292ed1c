import { arrayContains, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { projects } from '../projects/projects.table.ts';
import { tasks } from '../tasks/tasks.table.ts';
import type { LabelEntityType } from './labels.table.ts';

/** Whether items of the other entity type carry the label (a type change would break them). */
export async function labelInUseByOtherType(
  db: Executor,
  labelId: string,
  newType: LabelEntityType,
): Promise<boolean> {
  const rows =
    newType === 'task'
      ? await db
          .select({ one: sql`1` })
          .from(projects)
          .where(arrayContains(projects.labelIds, [labelId]))
          .limit(1)
      : await db
          .select({ one: sql`1` })
          .from(tasks)
          .where(arrayContains(tasks.labelIds, [labelId]))
          .limit(1);
  return rows.length > 0;
}

/** Removes a deleted label's id from every project and task that carries it. */
export async function detachLabel(db: Executor, labelId: string): Promise<void> {
  await db
    .update(projects)
    .set({ labelIds: sql`array_remove(${projects.labelIds}, ${labelId}::uuid)` })
    .where(arrayContains(projects.labelIds, [labelId]));
  await db
    .update(tasks)
    .set({ labelIds: sql`array_remove(${tasks.labelIds}, ${labelId}::uuid)` })
    .where(arrayContains(tasks.labelIds, [labelId]));
}
