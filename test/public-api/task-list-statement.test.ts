import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listTaskRows,
  type TaskFilter,
  taskListQuery,
} from '../../src/modules/tasks/tasks.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { insertUsers, seedTasks } from '../helpers/seed-tasks.ts';

/**
 * The list's fast path (a named statement, rows mapped by hand) returns exactly what the
 * query builder returns with drizzle's own mapping: same rows, same order, same values and
 * types (epoch numbers, `YYYY-MM-DD` strings, nulls, uuid arrays), for every preparable shape.
 */
describe('task list statement (prepared, hand-mapped) = query builder', () => {
  let tdb: TestDatabase;
  const ids = { a: '', b: '', project: '', container: '' };

  beforeAll(async () => {
    tdb = await createTestDatabase();
    const db = tdb.database.db;
    [ids.a = '', ids.b = ''] = await insertUsers(tdb.database, ['user_list_a', 'user_list_b']);
    await seedTasks(tdb.database, ids.a, 600);
    await seedTasks(tdb.database, ids.b, 300);
    // Labels, notes and a shared timestamp (ties ordered by id) on some rows.
    await db.execute(
      sql.raw(`
      update tasks set label_ids = array[gen_random_uuid(), gen_random_uuid()],
        notes = 'note "quoted" \\ ' || title, updated_at = 1735689900000
      where title like '%7'`),
    );
    const one = async (q: string) =>
      ((await db.execute(sql.raw(q))) as unknown as { rows: Array<{ id: string }> }).rows[0]?.id ??
      '';
    ids.project = await one(`select id from projects where workspace_id = '${ids.a}' limit 1`);
    ids.container = await one(`select id from containers where workspace_id = '${ids.a}' limit 1`);
  }, 120_000);
  afterAll(async () => tdb.destroy());

  const filters = (): Array<Partial<TaskFilter>> => [
    {},
    { bucket: 'todo' },
    { bucket: 'done', offset: 40, limit: 7 },
    { inboxTriage: 'this_week' },
    { projectId: ids.project, bucket: 'in_progress' },
    { containerId: ids.container },
    { assigneeId: ids.a },
    { workspaceIds: [ids.a, ids.b] },
    { workspaceIds: [ids.a, ids.b], bucket: 'new', offset: 5, limit: 30 },
    { doDate: { gte: '2025-06-01' } },
  ];

  it('same rows, order and values for every shape', async () => {
    const db = tdb.database.db;
    let compared = 0;
    for (const partial of filters()) {
      const f: TaskFilter = { workspaceIds: [ids.a], limit: 100, offset: 0, ...partial };
      const expected = await taskListQuery(db, f);
      // Twice: the first run prepares the statement, the second reuses it.
      for (let run = 0; run < 2; run++) {
        const rows = await listTaskRows(db, f);
        expect(rows, JSON.stringify(partial)).toEqual(expected);
      }
      if (expected.length > 0) compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(9);
    const page = await listTaskRows(db, { workspaceIds: [ids.a], limit: 500, offset: 0 });
    expect(page).toEqual(await taskListQuery(db, { workspaceIds: [ids.a], limit: 500, offset: 0 }));
    expect(page.filter((r) => r.labelIds.length === 2).length).toBeGreaterThan(10);
    const sample = page.find((r) => r.doDate !== null && r.scheduledAt !== null);
    expect(typeof sample?.doDate).toBe('string');
    expect(typeof sample?.scheduledAt).toBe('number');
    expect(typeof sample?.createdAt).toBe('number');
  });
});
