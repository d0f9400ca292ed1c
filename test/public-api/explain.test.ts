import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskListQuery, taskListStatementOf } from '../../src/modules/tasks/tasks.repository.ts';
import { type TaskListQuery, taskListQuerySchema } from '../../src/modules/tasks/tasks.schemas.ts';
import { taskFilterFor } from '../../src/modules/tasks/tasks.service.ts';
import { type Actor, loadActor } from '../../src/modules/workspaces/workspace.service.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { insertUsers, seedTasks } from '../helpers/seed-tasks.ts';
import { seedOrganisation } from '../helpers/workspaces.ts';

/**
 * With 100,000 tasks in one workspace, no list query of the contract scans the tasks table:
 * every filter (alone, combined, and the default order) is served by an index. The plans are
 * those of the exact SQL the API runs: the repository's query builder, and for requests it
 * runs as prepared statements, the statement's generic plan (the one Postgres settles on).
 */
describe('task list indexes (EXPLAIN, 100,000 tasks)', () => {
  let tdb: TestDatabase;
  let solo: Actor;
  let member: Actor;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const db = tdb.database.db;
    const [userId = '', otherId = ''] = await insertUsers(tdb.database, [
      'user_explain',
      'user_other',
    ]);
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

  /** The generic plan of the prepared statement the API runs for `query`, if it prepares one. */
  async function genericPlan(actor: Actor, query: string): Promise<string | undefined> {
    const parsed: TaskListQuery = taskListQuerySchema.parse(
      Object.fromEntries(new URLSearchParams(query)),
    );
    const statement = taskListStatementOf(
      tdb.database.db,
      await taskFilterFor(tdb.database.db, actor, parsed),
    );
    if (!statement) return undefined;
    const { sql: text, params } = statement.build().toSQL();
    const client = await tdb.database.pool!.connect();
    try {
      await client.query('set plan_cache_mode = force_generic_plan');
      await client.query(`prepare generic as ${text}`);
      const values = params.map((p) => {
        const value = statement.params[(p as { name: string }).name];
        return typeof value === 'number' ? String(value) : client.escapeLiteral(String(value));
      });
      const result = await client.query(`explain execute generic(${values.join(', ')})`);
      return (result.rows as Array<Record<string, string>>).map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await client.query('deallocate all; reset plan_cache_mode');
      client.release();
    }
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

  it('prepared list statements keep an index plan when Postgres plans them generically', async () => {
    if (!tdb.database.pool) return; // the embedded engine runs the builder's queries only
    let prepared = 0;
    for (const [actor, q] of [
      ...queries().map((q) => [solo, q] as const),
      ...['', 'bucket=todo', 'inboxTriage=this_week'].map((q) => [member, q] as const),
    ]) {
      const p = await genericPlan(actor, q);
      if (p === undefined) continue;
      prepared++;
      expect(p, `${q}\n${p}`).not.toMatch(/Seq Scan on tasks/);
      expect(p, q).toMatch(/Index|Bitmap/);
    }
    // The default list, each equality filter alone and combined, on one and several workspaces.
    expect(prepared).toBeGreaterThanOrEqual(13);
  });

  it('the benchmark query reads the bucket index in order (no sort of the workspace)', async () => {
    const p = await plan(solo, 'bucket=todo&limit=100');
    expect(p).toMatch(/tasks_ws_bucket_idx/);
    expect(p).not.toMatch(/Sort/);
  });
});
