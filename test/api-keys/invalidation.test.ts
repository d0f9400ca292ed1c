import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../../src/db/schema.ts';
import { revokeApiKey } from '../../src/modules/api-keys/api-keys.service.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, secondHandle, type TestDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';

describe('a second instance on the same database sees revocations (LISTEN/NOTIFY)', () => {
  let db: TestDatabase;
  let second: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  // A TTL far longer than the test: only a notification can make instance B forget a key.
  const env = { API_KEY_CACHE_TTL_MS: '3600000' };

  beforeAll(async () => {
    db = await createTestDatabase();
    // On Postgres the second instance has its own pool and its own LISTEN connection, as a
    // second process would; the embedded engine allows one process, so there they share it.
    second = await secondHandle(db);
    a = await buildTestApp({ db, env });
    b = await buildTestApp({ db: second, env });
  });
  afterAll(async () => {
    await b.close();
    await second.destroy();
    await a.close();
    await db.destroy();
  });

  const me = (t: TestApp, key: string) =>
    t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });

  it('B keeps serving a cached key when the row changes behind its back (the cache is real)', async () => {
    const k = await createTestKey(a.app);
    expect((await me(b, k.key)).statusCode).toBe(200);
    await db.database.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.id, k.keyId));
    expect((await me(b, k.key)).statusCode).toBe(200);
    // And a cold instance (A's cache dropped) sees the truth.
    a.app.apiKeys.verifier.invalidateLocal({ keyId: k.keyId });
    expect((await me(a, k.key)).json().code).toBe('API_KEY_REVOKED');
  });

  it('a revocation on A reaches B through NOTIFY', async () => {
    const k = await createTestKey(a.app);
    expect((await me(a, k.key)).statusCode).toBe(200);
    expect((await me(b, k.key)).statusCode).toBe(200);
    const hitsBefore = b.app.apiKeys.verifier.stats.cacheHits;
    expect((await me(b, k.key)).statusCode).toBe(200);
    expect(b.app.apiKeys.verifier.stats.cacheHits).toBe(hitsBefore + 1);

    await revokeApiKey(a.app.apiKeys.deps, { id: k.keyId });
    // A: at once (local invalidation before the answer).
    expect((await me(a, k.key)).json().code).toBe('API_KEY_REVOKED');
    // B: as soon as the notification arrives.
    const refused = await eventually(async () => (await me(b, k.key)).statusCode === 401);
    expect(refused).toBe(true);
    expect((await me(b, k.key)).json().code).toBe('API_KEY_REVOKED');
  });

  it('a user-wide invalidation reaches B as well', async () => {
    const k = await createTestKey(a.app);
    expect((await me(b, k.key)).statusCode).toBe(200);
    await db.database.db
      .update(apiKeys)
      .set({ revokedAt: new Date() })
      .where(eq(apiKeys.userId, k.userId));
    await a.app.apiKeys.verifier.invalidate({ userId: k.userId });
    expect(await eventually(async () => (await me(b, k.key)).statusCode === 401)).toBe(true);
  });
});
