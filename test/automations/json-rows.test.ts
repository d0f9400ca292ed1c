import { inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRows, jsonRowsSelect } from '../../src/db/json-rows.ts';
import { automationRuns, externalItems } from '../../src/db/schema.ts';
import { upsertExternalItems } from '../../src/modules/automations/automations.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * The engine's batch inserts send their rows as one JSON parameter (src/db/json-rows.ts):
 * what lands must be what drizzle's `values (...)` writes for the same rows, defaults included.
 */
describe('multi-row insert from one JSON parameter', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const run = (targetKey: string, extra: Partial<typeof automationRuns.$inferInsert> = {}) => ({
    inboxEventId: null,
    targetKey,
    kind: 'sync' as const,
    automationId: null,
    containerId: null,
    organisationId: null,
    userId: null,
    status: 'succeeded' as const,
    failedCondition: { field: 'title', op: 'contains', value: `it's "quoted" ✓ \\ ` },
    effects: [{ kind: 'task', nested: { list: [1, 2, null] } }],
    error: null,
    ...extra,
  });
  const strip = ({
    id: _i,
    targetKey: _k,
    createdAt: _c,
    updatedAt: _u,
    ...rest
  }: Record<string, unknown>) => rest;

  it('writes the same rows as values (...), defaults and JSON columns included', async () => {
    const db = t.database.db;
    const viaJson = [run('json:a'), run('json:b', { effects: [], failedCondition: null })];
    const viaValues = [run('values:a'), run('values:b', { effects: [], failedCondition: null })];
    expect(jsonRowsSelect(automationRuns, viaJson)).toBeDefined();
    await insertRows(db, automationRuns, viaJson);
    await db.insert(automationRuns).values(viaValues);
    const read = async (keys: string[]) =>
      (await db.select().from(automationRuns).where(inArray(automationRuns.targetKey, keys))).sort(
        (a, b) => a.targetKey.localeCompare(b.targetKey),
      );
    const json = await read(['json:a', 'json:b']);
    const values = await read(['values:a', 'values:b']);
    expect(json).toHaveLength(2);
    expect(json.map(strip)).toEqual(values.map(strip));
    // stored as JSON values, not as JSON strings (drizzle would parse a string back)
    const types = (await db.execute(
      sql`select jsonb_typeof(effects) as e, jsonb_typeof(failed_condition) as f from automation_runs where target_key = 'json:a'`,
    )) as unknown as { rows: Array<{ e: string; f: string }> };
    expect(types.rows).toEqual([{ e: 'array', f: 'object' }]);
    // the column defaults applied (direction, matched, warnings, attempts)
    expect(json[0]).toMatchObject({
      direction: 'incoming',
      matched: false,
      warnings: [],
      attempts: 1,
    });
  });

  it('upserts external items like values (...): bigint and timestamp defaults, newest version kept', async () => {
    const db = t.database.db;
    const item = (externalId: string, versionAt: number, removed = false) => ({
      workspaceKey: 'w',
      provider: 'linear' as const,
      externalId,
      itemType: 'task' as const,
      containerKey: 'c',
      itemId: null,
      versionAt,
      removed,
    });
    await upsertExternalItems(db, [item('x1', 5), item('x2', 7)]);
    // a removal is written with now(): that batch goes through values (...)
    await upsertExternalItems(db, [item('x1', 3), item('x2', 9, true)]);
    const rows = await db.select().from(externalItems).orderBy(externalItems.externalId);
    expect(
      rows.map((r) => [r.externalId, r.versionAt, r.removedAt !== null, r.pushedVersionAt]),
    ).toEqual([
      ['x1', 5, false, null],
      ['x2', 9, true, null],
    ]);
    expect(rows[0]?.createdAt).toBeInstanceOf(Date);
  });

  it('leaves rows that are not alike to values (...)', () => {
    expect(
      jsonRowsSelect(automationRuns, [run('a'), { ...run('b'), stage: 'sync' }]),
    ).toBeUndefined();
    expect(
      jsonRowsSelect(automationRuns, [run('a', { error: sql`'x'` as never })]),
    ).toBeUndefined();
    expect(jsonRowsSelect(automationRuns, [])).toBeUndefined();
  });
});
