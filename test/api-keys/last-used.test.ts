import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../../src/db/schema.ts';
import { writeLastUsed } from '../../src/modules/api-keys/api-keys.repository.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { countQueries } from '../helpers/query-count.ts';

describe('last-used batching', () => {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    t = await buildTestApp({ db, env: { API_KEY_LAST_USED_INTERVAL_MS: '60000' } });
  });
  afterAll(async () => {
    await t.close();
    await db.destroy();
  });

  const me = (key: string) =>
    t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });
  const lastUsed = async (id: string) =>
    (await db.database.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0]?.lastUsedAt ?? null;

  it('writes at most once per key per interval, for many keys in one statement', async () => {
    const verifier = t.app.apiKeys.verifier;
    // No background flush during this test: only the explicit flushes below write.
    await verifier.stop();
    const start = Date.now();
    verifier.now = () => start;
    const k1 = await createTestKey(t.app);
    const k2 = await createTestKey(t.app);
    for (let i = 0; i < 25; i++) {
      expect((await me(k1.key)).statusCode).toBe(200);
      expect((await me(k2.key)).statusCode).toBe(200);
    }
    expect(await lastUsed(k1.keyId)).toBeNull();

    const queries = countQueries(db.database);
    try {
      await verifier.flushLastUsed();
      const updates = queries.statements.filter((s) => /update "api_keys"/i.test(s));
      expect(updates).toHaveLength(1);
      expect(queries.count).toBe(1);
    } finally {
      queries.restore();
    }
    expect((await lastUsed(k1.keyId))?.getTime()).toBe(start);
    expect((await lastUsed(k2.keyId))?.getTime()).toBe(start);

    // Within the interval: more requests, nothing to write.
    verifier.now = () => start + 59_999;
    for (let i = 0; i < 10; i++) await me(k1.key);
    const idle = countQueries(db.database);
    try {
      await verifier.flushLastUsed();
      expect(idle.count).toBe(0);
    } finally {
      idle.restore();
    }
    expect((await lastUsed(k1.keyId))?.getTime()).toBe(start);

    // Past it: one more write, with the new time.
    verifier.now = () => start + 60_000;
    await me(k1.key);
    await verifier.flushLastUsed();
    expect((await lastUsed(k1.keyId))?.getTime()).toBe(start + 60_000);
    expect((await lastUsed(k2.keyId))?.getTime()).toBe(start);
    verifier.now = Date.now;
  });

  it('never moves last_used_at backwards (an older batch from another instance)', async () => {
    const k = await createTestKey(t.app);
    const verifier = t.app.apiKeys.verifier;
    const future = Date.now() + 120_000;
    await db.database.db
      .update(apiKeys)
      .set({ lastUsedAt: new Date(future) })
      .where(eq(apiKeys.id, k.keyId));
    expect((await me(k.key)).statusCode).toBe(200);
    await verifier.flushLastUsed();
    expect((await lastUsed(k.keyId))?.getTime()).toBe(future);
    // The batch write itself keeps the newer time (GREATEST), whatever an instance sends.
    await writeLastUsed(db.database.db, [{ id: k.keyId, at: new Date(future - 60_000) }]);
    expect((await lastUsed(k.keyId))?.getTime()).toBe(future);
  });

  it('flushes on close', async () => {
    const other = await buildTestApp({ db });
    const k = await createTestKey(other.app);
    expect(
      (
        await other.app.inject({
          url: '/api/v1/me',
          headers: { authorization: `Bearer ${k.key}` },
        })
      ).statusCode,
    ).toBe(200);
    expect(await lastUsed(k.keyId)).toBeNull();
    await other.close();
    expect(await lastUsed(k.keyId)).not.toBeNull();
  });
});
