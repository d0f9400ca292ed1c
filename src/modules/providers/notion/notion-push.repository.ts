import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import type { WriteBackMapping } from '../../automations/automation.write-back.ts';
import { externalItems } from '../../automations/automations.table.ts';
import { pushContextBase, textOrNull } from '../outbox/sync-outbox.repository.ts';
import { NOTION } from './notion.id.ts';

type Rows<T> = { rows: T[] };

export type NotionPushContext = ReturnType<typeof pushContextBase> & {
  doDate: string | null;
  containerId: string | null;
  pageId: string;
  automationId: string;
  writeBack: WriteBackMapping[];
  connectionId: string | null;
};

/**
 * Everything a push needs about a task, the Notion page it was made from, the rule that made
 * it (its write-back mapping) and the workspace's Notion connection (one query).
 */
export async function loadNotionPushContext(
  db: Executor,
  taskId: string,
): Promise<NotionPushContext | undefined> {
  const rows = (await db.execute(sql`
    select t.id as task_id, t.title, t.bucket, t.do_date, t.due_date, t.container_id,
           ei.external_id as page_id, a.id as automation_id, a.sync, a.write_back,
           a.organisation_id, coalesce(a.created_by_user_id, a.user_id) as acting_user_id,
           c.id as connection_id
      from tasks t
      join automation_external_items ei on ei.item_id = t.id and ei.item_type = 'task'
                                       and ei.provider = ${NOTION} and ei.removed_at is null
      join automations a on a.id = ei.automation_id
      left join integration_connections c on c.provider = ${NOTION}
            and (c.organisation_id = a.organisation_id
                 or (a.organisation_id is null and c.organisation_id is null and c.user_id = a.user_id))
     where t.id = ${taskId}
     order by (a.sync = 'two_way') desc
     limit 1`)) as unknown as Rows<Record<string, unknown>>;
  const r = rows.rows[0];
  if (!r) return undefined;
  return {
    ...pushContextBase(r),
    doDate: textOrNull(r.do_date),
    containerId: textOrNull(r.container_id),
    pageId: String(r.page_id),
    automationId: String(r.automation_id),
    writeBack: Array.isArray(r.write_back) ? (r.write_back as WriteBackMapping[]) : [],
    connectionId: textOrNull(r.connection_id),
  };
}

/**
 * Whether the page's version is the one the server's own write produced (its echo): the
 * page's `last_edited_time` (ms) as answered by our `pages.update`.
 */
export async function isOwnPageWrite(
  db: Executor,
  input: { pageId: string; lastEditedAt: number },
): Promise<boolean> {
  const [row] = await db
    .select({ id: externalItems.id })
    .from(externalItems)
    .where(
      and(
        eq(externalItems.provider, NOTION),
        eq(externalItems.itemType, 'task'),
        eq(externalItems.pushedVersionAt, input.lastEditedAt),
        sql`replace(${externalItems.externalId}, '-', '') = ${input.pageId.replaceAll('-', '')}`,
      ),
    )
    .limit(1);
  return row !== undefined;
}
