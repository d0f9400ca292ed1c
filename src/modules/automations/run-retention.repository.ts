import { sql } from 'drizzle-orm';
import { at, deleteBatch } from '../../db/batch-delete.ts';
import type { Executor } from '../../db/database.ts';
import { inboxEvents } from '../inbox/inbox.table.ts';
import { automationRuns } from './automations.table.ts';

/**
 * Retention of run history: runs last written before `before`, of events that are finished
 * (processed or dead-lettered), and outgoing pushes (no event). The runs of an event still being retried are its memory of
 * which targets already succeeded, so they stay whatever their age.
 */
export function pruneAutomationRuns(
  db: Executor,
  input: { before: Date; limit: number },
): Promise<number> {
  return deleteBatch(db, {
    table: automationRuns,
    where: sql`${automationRuns.updatedAt} < ${at(input.before)}
      and (${automationRuns.inboxEventId} is null
        or exists (select 1 from ${inboxEvents} e where e.id = ${automationRuns.inboxEventId}
          and e.state in ('processed', 'failed')))`,
    limit: input.limit,
  });
}
