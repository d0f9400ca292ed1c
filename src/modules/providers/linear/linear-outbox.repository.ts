import { sql } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import { pushContextBase, syncOutboxFor, textOrNull } from '../outbox/sync-outbox.repository.ts';
import { LINEAR } from './linear.id.ts';

export { lockTaskBeforeOutbox, type OutboxField } from '../outbox/sync-outbox.repository.ts';

/** The shared two-way outbox, Linear's rows. */
export const linearOutbox = syncOutboxFor(LINEAR);
export const { withSyncOrigin, holdsSyncOrigin, yieldToLocalChanges, listTasksWithPendingChanges } =
  linearOutbox;

type Rows<T> = { rows: T[] };

export interface PushContext {
  taskId: string;
  title: string;
  notes: string | null;
  bucket: string;
  dueDate: string | null;
  assigneeEmail: string | null;
  assigneeId: string | null;
  issueId: string;
  containerId: string;
  teamId: string;
  sync: 'from_provider' | 'two_way';
  connectionId: string;
  organisationId: string | null;
  actingUserId: string | null;
}

/** Everything a push needs about a task, its Linear issue and its team link (one query). */
export async function loadPushContext(
  db: Executor,
  taskId: string,
): Promise<PushContext | undefined> {
  const rows = (await db.execute(sql`
    select t.id as task_id, t.title, t.notes, t.bucket, t.due_date, t.assignee_id,
           u.email as assignee_email, l.external_id as issue_id, tl.container_id,
           tl.team_id, tl.sync, tl.connection_id, c.organisation_id,
           coalesce(tl.created_by_user_id, c.connected_by_user_id, c.user_id) as acting_user_id
      from tasks t
      join external_links l on l.entity_type = 'task' and l.entity_id = t.id
                           and l.provider = 'linear' and l.container_id = t.container_id
      join linear_team_links tl on tl.container_id = l.container_id
      join integration_connections c on c.id = tl.connection_id
      left join users u on u.id = t.assignee_id
     where t.id = ${taskId}
     limit 1`)) as unknown as Rows<Record<string, unknown>>;
  const r = rows.rows[0];
  if (!r) return undefined;
  return {
    ...pushContextBase(r),
    notes: textOrNull(r.notes),
    assigneeId: textOrNull(r.assignee_id),
    assigneeEmail: textOrNull(r.assignee_email),
    issueId: String(r.issue_id),
    containerId: String(r.container_id),
    teamId: String(r.team_id),
    connectionId: String(r.connection_id),
  };
}
