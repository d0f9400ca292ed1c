import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/database.ts';

/**
 * 100,000 tasks (default) in one user's personal workspace, spread over every filter: 9
 * buckets, inbox triage on 10 %, projects on a third, containers, categories, routine blocks,
 * an assignee, do/due/end dates over two years, calendar times on a fifth. Then ANALYZE.
 * Used by the EXPLAIN test and by bench/public-api.ts.
 */
export async function seedTasks(
  database: Database,
  userId: string,
  count = 100_000,
): Promise<void> {
  const db = database.db;
  const u = sql.raw(`'${userId}'::uuid`);
  await db.execute(sql`
    insert into containers (user_id, workspace_id, name, created_at, updated_at)
    select ${u}, ${u}, 'container ' || g, 0, 0 from generate_series(1, 10) g`);
  await db.execute(sql`
    insert into projects (user_id, workspace_id, title, container_id, created_at, updated_at)
    select ${u}, ${u}, 'project ' || g, (select id from containers where workspace_id = ${u} order by name limit 1 offset g % 10), 0, 0
    from generate_series(1, 50) g`);
  await db.execute(sql`
    insert into categories (user_id, workspace_id, name, entity_type, created_at, updated_at)
    select ${u}, ${u}, 'category ' || g, 'task', 0, 0 from generate_series(1, 20) g`);
  await db.execute(sql`
    insert into routine_blocks (user_id, workspace_id, day_of_week, start_time, end_time, name, block_type, created_at, updated_at)
    select ${u}, ${u}, g % 7, '09:00', '10:00', 'block ' || g, 'routine', 0, 0 from generate_series(1, 20) g`);
  await db.execute(sql`
    with p as (select array_agg(id order by id) a from projects where workspace_id = ${u}),
         c as (select array_agg(id order by id) a from containers where workspace_id = ${u}),
         k as (select array_agg(id order by id) a from categories where workspace_id = ${u}),
         r as (select array_agg(id order by id) a from routine_blocks where workspace_id = ${u})
    insert into tasks (user_id, workspace_id, title, bucket, inbox_triage, project_id, container_id,
      category_id, routine_block_id, assignee_id, do_date, do_end_date, due_date, scheduled_at,
      created_at, updated_at)
    select ${u}, ${u}, 'task ' || g,
      (array['backlog','next_week','new','shaping','todo','in_progress','in_review','done','cancelled'])[1 + g % 9],
      case when g % 10 = 0 then (array['this_week','next_week','this_month'])[1 + (g / 10) % 3] end,
      case when g % 3 = 0 then p.a[1 + g % 50] end,
      case when g % 3 = 0 then null when g % 3 = 1 then c.a[1 + g % 10] end,
      case when g % 4 = 0 then k.a[1 + g % 20] end,
      case when g % 7 = 0 then r.a[1 + g % 20] end,
      case when g % 5 = 0 then ${u} end,
      case when g % 2 = 0 then date '2025-01-01' + (g % 730) end,
      case when g % 6 = 0 then date '2025-01-02' + (g % 730) end,
      case when g % 3 = 0 then date '2025-01-15' + (g % 730) end,
      case when g % 5 = 0 then 1735689600000 + (g::bigint * 600000) end,
      1735689600000 + g::bigint * 1000, 1735689600000 + g::bigint * 1000
    from generate_series(1, ${sql.raw(String(Math.trunc(count)))}) g, p, c, k, r`);
  await db.execute(sql`analyze`);
}

/** Bare users (no Clerk profile) for repository-level tests; their ids in the given order. */
export async function insertUsers(database: Database, clerkIds: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const clerkId of clerkIds) {
    const result = (await database.db.execute(
      sql`insert into users (clerk_id) values (${clerkId}) returning id`,
    )) as unknown as { rows: Array<{ id: string }> };
    ids.push(result.rows[0]?.id ?? '');
  }
  return ids;
}
