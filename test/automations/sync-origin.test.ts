import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../src/db/database.ts';
import { lockEntities } from '../../src/modules/automations/automation.processor.ts';
import { withChangeOrigin } from '../../src/modules/automations/automations.repository.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

/**
 * The batch transaction's `monoid.sync_origin` is set by its entity-lock statement; a rule or
 * sync of another source switches it for its writes and puts back the batch's own.
 */
describe('the sync origin of a batch transaction', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  const origin = async (tx: Executor) => {
    const { rows } = (await tx.execute(
      sql`select coalesce(current_setting('monoid.sync_origin', true), '') as o`,
    )) as unknown as { rows: Array<{ o: string }> };
    return rows[0]?.o;
  };

  it('is the batch source after the locks, switched inside withChangeOrigin and put back', async () => {
    const seen: Array<string | undefined> = [];
    await t.database.db.transaction(async (tx) => {
      await lockEntities(tx, ['linear:a', 'linear:b'], 'linear');
      seen.push(await origin(tx));
      await withChangeOrigin(tx, 'linear', async (db) => {
        seen.push(await origin(db));
      });
      seen.push(await origin(tx));
      await withChangeOrigin(tx, 'notion', async (db) => {
        seen.push(await origin(db));
        await withChangeOrigin(db, 'notion', async (inner) => {
          seen.push(await origin(inner));
        });
        seen.push(await origin(db));
      });
      seen.push(await origin(tx));
    });
    expect(seen).toEqual(['linear', 'linear', 'linear', 'notion', 'notion', 'notion', 'linear']);
  });

  it('is none again after withChangeOrigin in a transaction that set none', async () => {
    const seen: Array<string | undefined> = [];
    await t.database.db.transaction(async (tx) => {
      await lockEntities(tx, ['linear:a']);
      await withChangeOrigin(tx, 'linear', async (db) => {
        seen.push(await origin(db));
      });
      seen.push(await origin(tx));
    });
    expect(seen).toEqual(['linear', '']);
  });
});
