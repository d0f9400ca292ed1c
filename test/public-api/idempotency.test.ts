import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyKeys } from '../../src/modules/idempotency/idempotency.table.ts';
import type { TestApp } from '../helpers/app.ts';
import { type ApiUser, buildApiTestApp, createApiUser, dataOf } from '../helpers/workspaces.ts';

describe('Idempotency-Key on POST', () => {
  let t: TestApp;
  let alice: ApiUser;
  let alice2: ApiUser;

  beforeAll(async () => {
    t = await buildApiTestApp();
    alice = await createApiUser(t.app);
    alice2 = await createApiUser(t.app, { clerkUserId: alice.clerkUserId });
  });
  afterAll(async () => t.close());

  const count = async (u: ApiUser, path: string) =>
    dataOf<unknown[]>(await u.request('GET', `/api/v1/${path}?limit=500`)).length;

  const bodies: Array<[string, Record<string, unknown>, Record<string, unknown>]> = [
    ['containers', { name: 'A' }, { name: 'B' }],
    ['tasks', { title: 'A' }, { title: 'B' }],
    ['categories', { name: 'A', entityType: 'task' }, { name: 'B', entityType: 'task' }],
    ['labels', { name: 'A', entityType: 'task' }, { name: 'B', entityType: 'task' }],
    ['reviews', { date: '2026-01-01', type: 'daily' }, { date: '2026-01-02', type: 'daily' }],
    ['daily_notes', { date: '2026-01-01' }, { date: '2026-01-02' }],
    [
      'routine_blocks',
      { dayOfWeek: 1, startTime: '09:00', endTime: '10:00', name: 'A' },
      { dayOfWeek: 2, startTime: '09:00', endTime: '10:00', name: 'B' },
    ],
    ['organisations', { id: 'idem', name: 'A' }, { id: 'idem2', name: 'B' }],
  ];

  for (const [path, body, other] of bodies) {
    it(`${path}: a retry replays the first response; another body is a 422`, async () => {
      const key = `idem-${path}`;
      const before = await count(alice, path);
      const first = await alice.request('POST', `/api/v1/${path}`, body, {
        'idempotency-key': key,
      });
      expect(first.statusCode, first.body).toBe(201);
      // Same body with keys in another order, and an unknown field's absence, is the same body.
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const retry = await alice.request('POST', `/api/v1/${path}`, reordered, {
        'idempotency-key': key,
      });
      expect(retry.statusCode).toBe(201);
      expect(retry.body).toBe(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(await count(alice, path)).toBe(before + 1);
      const reused = await alice.request('POST', `/api/v1/${path}`, other, {
        'idempotency-key': key,
      });
      expect(reused.statusCode).toBe(422);
      expect(reused.json().code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(await count(alice, path)).toBe(before + 1);
    });
  }

  it('projects: a retry replays the first response; another body is a 422', async () => {
    const c = dataOf<{ _id: string }>(
      await alice.request('POST', '/api/v1/containers', { name: 'P' }),
      201,
    );
    const body = { title: 'A', containerId: c._id };
    const first = await alice.request('POST', '/api/v1/projects', body, {
      'idempotency-key': 'p1',
    });
    expect(first.statusCode).toBe(201);
    const retry = await alice.request('POST', '/api/v1/projects', body, {
      'idempotency-key': 'p1',
    });
    expect(retry.body).toBe(first.body);
    expect(await count(alice, 'projects')).toBe(1);
    const other = await alice.request(
      'POST',
      '/api/v1/projects',
      { ...body, title: 'B' },
      { 'idempotency-key': 'p1' },
    );
    expect(other.statusCode).toBe(422);
    // The same key on another path is another request too.
    const elsewhere = await alice.request(
      'POST',
      '/api/v1/containers',
      { name: 'P' },
      {
        'idempotency-key': 'p1',
      },
    );
    expect(elsewhere.statusCode).toBe(422);
  });

  it('keys are per API key: another key of the same user runs its own request', async () => {
    const a = dataOf<{ _id: string }>(
      await alice.request(
        'POST',
        '/api/v1/containers',
        { name: 'K' },
        { 'idempotency-key': 'shared' },
      ),
      201,
    );
    const b = dataOf<{ _id: string }>(
      await alice2.request(
        'POST',
        '/api/v1/containers',
        { name: 'K' },
        { 'idempotency-key': 'shared' },
      ),
      201,
    );
    expect(b._id).not.toBe(a._id);
  });

  it('an error response is replayed too (the 409 of a duplicate review stays a 409)', async () => {
    dataOf(
      await alice.request('POST', '/api/v1/reviews', { date: '2026-05-05', type: 'weekly' }),
      201,
    );
    const first = await alice.request(
      'POST',
      '/api/v1/reviews',
      { date: '2026-05-05', type: 'weekly' },
      { 'idempotency-key': 'dup-review' },
    );
    expect(first.statusCode).toBe(409);
    const again = await alice.request(
      'POST',
      '/api/v1/reviews',
      { date: '2026-05-05', type: 'weekly' },
      { 'idempotency-key': 'dup-review' },
    );
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('a request still in flight answers 409 with Retry-After; a stale claim is reclaimed', async () => {
    const now = Date.now();
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update('POST /api/v1/containers\n{"name":"F"}').digest('hex');
    await t.db.database.db.insert(idempotencyKeys).values({
      apiKeyId: alice.keyId,
      key: 'in-flight',
      requestHash: hash,
      state: 'in_flight',
      createdAt: now,
      expiresAt: now + 86_400_000,
    });
    const res = await alice.request(
      'POST',
      '/api/v1/containers',
      { name: 'F' },
      { 'idempotency-key': 'in-flight' },
    );
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('CONFLICT');
    expect(res.headers['retry-after']).toBe('1');
    // A claim abandoned by a crashed request (older than a minute) is taken over.
    await t.db.database.db
      .update(idempotencyKeys)
      .set({ createdAt: now - 120_000 })
      .where(and(eq(idempotencyKeys.apiKeyId, alice.keyId), eq(idempotencyKeys.key, 'in-flight')));
    const retried = await alice.request(
      'POST',
      '/api/v1/containers',
      { name: 'F' },
      { 'idempotency-key': 'in-flight' },
    );
    expect(retried.statusCode).toBe(201);
  });

  it('records are kept at least 24 hours', async () => {
    await alice.request('POST', '/api/v1/containers', { name: 'T' }, { 'idempotency-key': 'ttl' });
    const [row] = await t.db.database.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.apiKeyId, alice.keyId), eq(idempotencyKeys.key, 'ttl')));
    expect(row?.state).toBe('completed');
    expect(row!.expiresAt - row!.createdAt).toBeGreaterThanOrEqual(24 * 3_600_000);
  });

  it('a POST without the header is not deduplicated', async () => {
    const before = await count(alice, 'tasks');
    await alice.request('POST', '/api/v1/tasks', { title: 'same' });
    await alice.request('POST', '/api/v1/tasks', { title: 'same' });
    expect(await count(alice, 'tasks')).toBe(before + 2);
  });
});
