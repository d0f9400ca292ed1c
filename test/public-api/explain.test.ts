import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { taskListQuery } from '../../src/modules/tasks/tasks.repository.ts';
import { type TaskListQuery, taskListQuerySchema } from '../../src/modules/tasks/tasks.schemas.ts';
import { taskFilterFor } from '../../src/modules/tasks/tasks.service.ts';
import { type Actor, loadActor } from '../../src/modules/workspaces/workspace.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { seedOrganisation } from '../helpers/workspaces.ts';

/**
 * With 100,000 tasks in one workspace, no list query of the contract scans the tasks table:
 * every filter (alone, combined, and the default order) is served by an index. The plans are
 * those of the exact SQL the API runs (the repository's query builder).
 */
async function seedTasks(database: Database, userId: string): Promise<void> {
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
    from generate_series(1, 100000) g, p, c, k, r`);
  await db.execute(sql`analyze`);
}

describe('task list indexes (EXPLAIN, 100,000 tasks)', () => {
  let tdb: TestDatabase;
  let solo: Actor;
  let member: Actor;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const db = tdb.database.db;
    const rows = (await db.execute(
      sql`insert into users (clerk_id) values ('user_explain'), ('user_other') returning id`,
    )) as unknown as { rows: Array<{ id: string }> };
    const userId = rows.rows[0]!.id;
    const otherId = rows.rows[1]!.id;
    await seedTasks(tdb.database, userId);
    await seedTasks(tdb.database, otherId);
    solo = await loadActor(db, userId);
    await seedOrganisation(tdb.database, { members: [{ userId: otherId }] });
    await seedOrganisation(tdb.database, { members: [{ userId: otherId }] });
    member = await loadActor(db, otherId);
    const one = async (q: string) =>
      ((await db.execute(sql.raw(q))) as unknown as { rows: Array<{ id: string }> }).rows[0]!.id;
    ids.project = await one(`select id from projects where workspace_id = '${userId}' limit 1`);
    ids.container = await one(`select id from containers where workspace_id = '${userId}' limit 1`);
    ids.category = await one(`select id from categories where workspace_id = '${userId}' limit 1`);
    ids.block = await one(`select id from routine_blocks where workspace_id = '${userId}' limit 1`);
    ids.user = userId;
  }, 240_000);
  afterAll(async () => tdb.destroy());

  async function plan(actor: Actor, query: string): Promise<string> {
    const parsed: TaskListQuery = taskListQuerySchema.parse(
      Object.fromEntries(new URLSearchParams(query)),
    );
    const filter = await taskFilterFor(tdb.database.db, actor, parsed);
    const { sql: text, params } = taskListQuery(tdb.database.db, filter).toSQL();
    const explain = `explain ${text}`;
    const result = tdb.database.pool
      ? await tdb.database.pool.query(explain, params)
      : await tdb.database.pglite!.query(explain, params);
    return (result.rows as Array<Record<string, string>>).map((r) => r['QUERY PLAN']).join('\n');
  }

  const queries = () => [
    '',
    'bucket=todo&limit=100',
    'bucket=done&offset=400',
    'inboxTriage=this_week',
    `projectId=${ids.project}`,
    `categoryId=${ids.category}`,
    `containerId=${ids.container}`,
    'organisationId=personal',
    `assigneeId=${ids.user}`,
    `routineBlockId=${ids.block}`,
    'doDateEq=2025-06-01',
    'doDateGte=2026-12-01',
    'doDateLte=2025-01-10',
    'dueDateEq=2025-03-01',
    'dueDateGte=2026-12-20',
    'dueDateLte=2025-01-20',
    'doEndDateEq=2025-02-01',
    'doEndDateGte=2026-12-25',
    'doEndDateLte=2025-01-10',
    'scheduledAtEq=1735749600000',
    'scheduledAtGte=1795000000000',
    'scheduledAtLte=1735700000000',
    'dueDateGte=2025-01-01&dueDateLte=2025-01-31',
    'bucket=todo&doDateGte=2025-06-01&doDateLte=2025-06-30',
    `bucket=in_progress&projectId=${ids.project}`,
    'bucket=todo&inboxTriage=next_week&organisationId=personal',
    'bucket=done&scheduledAtGte=1735689600000&limit=500',
  ];

  it('no query in the contract scans the tasks table (one workspace)', async () => {
    for (const q of queries()) {
      const p = await plan(solo, q);
      expect(p, `${q}\n${p}`).not.toMatch(/Seq Scan on tasks/);
      expect(p, q).toMatch(/Index|Bitmap/);
    }
  });

  it('nor for a member of several workspaces', async () => {
    for (const q of ['', 'bucket=todo', 'inboxTriage=this_week', 'dueDateLte=2025-01-20']) {
      const p = await plan(member, q);
      expect(p, `${q}\n${p}`).not.toMatch(/Seq Scan on tasks/);
    }
  });

  it('the benchmark query reads the bucket index in order (no sort of the workspace)', async () => {
    const p = await plan(solo, 'bucket=todo&limit=100');
    expect(p).toMatch(/tasks_ws_bucket_idx/);
    expect(p).not.toMatch(/Sort/);
  });
});
