import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeApiKey } from '../../src/modules/api-keys/api-keys.service.ts';
import type { TestApp } from '../helpers/app.ts';
import {
  type ApiUser,
  buildApiTestApp,
  clientFor,
  createApiUser,
  dataOf,
} from '../helpers/workspaces.ts';

/**
 * The shared suite (as unkey does): every /api/v1 resource route answers the same way to
 * missing, revoked and expired keys, a missing scope, another user's item, a malformed id and
 * a bad body.
 */

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
interface Resource {
  path: string;
  /** Creates an item owned by `user`; returns its path key (`_id`, or the date). */
  seed(user: ApiUser): Promise<string>;
  badBody: unknown;
  badQuery: string;
  invalidId?: string;
}

let counter = 0;
const uniqueDate = () => {
  counter++;
  return `2030-01-${String((counter % 28) + 1).padStart(2, '0')}`;
};

const resources: Resource[] = [
  {
    path: 'organisations',
    seed: async (u) =>
      dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/organisations', {
          id: `team_${counter++}_${u.userId}`,
          name: 'O',
        }),
        201,
      )._id,
    badBody: { id: 12, name: 42 },
    badQuery: 'includeMembers=maybe',
  },
  {
    path: 'containers',
    seed: async (u) =>
      dataOf<{ _id: string }>(await u.request('POST', '/api/v1/containers', { name: 'C' }), 201)
        ._id,
    badBody: { name: 42 },
    badQuery: 'limit=501',
  },
  {
    path: 'projects',
    seed: async (u) => {
      const c = dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/containers', { name: 'C' }),
        201,
      );
      return dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/projects', { title: 'P', containerId: c._id }),
        201,
      )._id;
    },
    badBody: { title: 'P', containerId: 'x', status: 'sleeping' },
    badQuery: 'status=sleeping',
  },
  {
    path: 'tasks',
    seed: async (u) =>
      dataOf<{ _id: string }>(await u.request('POST', '/api/v1/tasks', { title: 'T' }), 201)._id,
    badBody: { title: 'T', bucket: 'someday' },
    badQuery: 'dueDateGte=2026-13-45',
  },
  {
    path: 'categories',
    seed: async (u) =>
      dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/categories', { name: 'Cat', entityType: 'task' }),
        201,
      )._id,
    badBody: { name: 'Cat', entityType: 'person' },
    badQuery: 'entityType=person',
  },
  {
    path: 'labels',
    seed: async (u) =>
      dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/labels', { name: 'L', entityType: 'project' }),
        201,
      )._id,
    badBody: { name: 'L', entityType: 'routine_block' },
    badQuery: 'offset=-1',
  },
  {
    path: 'routine_blocks',
    seed: async (u) =>
      dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/routine_blocks', {
          dayOfWeek: 1,
          startTime: '09:00',
          endTime: '10:00',
          name: 'Deep Work',
        }),
        201,
      )._id,
    badBody: { dayOfWeek: 9, startTime: '09:00', endTime: '10:00' },
    badQuery: 'date=tomorrow',
  },
  {
    path: 'reviews',
    seed: async (u) =>
      dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/reviews', { date: uniqueDate(), type: 'daily' }),
        201,
      )._id,
    badBody: { date: '2026-02-30', type: 'daily' },
    badQuery: 'type=hourly',
  },
  {
    path: 'daily_notes',
    seed: async (u) =>
      dataOf<{ date: string }>(
        await u.request('POST', '/api/v1/daily_notes', { date: uniqueDate(), content: 'x' }),
        201,
      ).date,
    badBody: { date: 'today' },
    badQuery: 'dates=2026-01-01,nope',
    invalidId: 'not-a-date',
  },
];

interface RouteCase {
  method: Method;
  url: (key: string) => string;
  hasId: boolean;
  body: (r: Resource) => unknown;
  scope: 'read' | 'write' | 'delete';
}

const routeCases: RouteCase[] = [
  { method: 'GET', url: () => '', hasId: false, body: () => undefined, scope: 'read' },
  { method: 'POST', url: () => '', hasId: false, body: () => ({}), scope: 'write' },
  { method: 'GET', url: (k) => `/${k}`, hasId: true, body: () => undefined, scope: 'read' },
  { method: 'PATCH', url: (k) => `/${k}`, hasId: true, body: () => ({}), scope: 'write' },
  { method: 'DELETE', url: (k) => `/${k}`, hasId: true, body: () => undefined, scope: 'delete' },
];

describe('every /api/v1 resource route', () => {
  let t: TestApp;
  let alice: ApiUser;
  let bob: ApiUser;
  let revokedKey: string;
  let expiredKey: string;
  const scopedKeys = new Map<string, string>();
  const bobItems = new Map<string, string>();
  const aliceItems = new Map<string, string>();

  beforeAll(async () => {
    t = await buildApiTestApp();
    alice = await createApiUser(t.app);
    bob = await createApiUser(t.app);
    const revoked = await createApiUser(t.app, { clerkUserId: alice.clerkUserId });
    await revokeApiKey(t.app.apiKeys.deps, { id: revoked.keyId });
    revokedKey = revoked.key;
    const expired = await createApiUser(t.app, { clerkUserId: alice.clerkUserId });
    await t.db.database.db.execute(
      sql`update api_keys set expires_at = now() - interval '1 minute' where id = ${expired.keyId}`,
    );
    expiredKey = expired.key;
    // For each needed scope, a key of Alice's with every other scope.
    for (const [scope, others] of [
      ['read', ['write', 'delete']],
      ['write', ['read', 'delete']],
      ['delete', ['read', 'write']],
    ] as const) {
      const k = await createApiUser(t.app, { clerkUserId: alice.clerkUserId, scopes: [...others] });
      scopedKeys.set(scope, k.key);
    }
    for (const r of resources) {
      bobItems.set(r.path, await r.seed(bob));
      aliceItems.set(r.path, await r.seed(alice));
    }
  });
  afterAll(async () => t.close());

  for (const r of resources) {
    for (const rc of routeCases) {
      const name = `${rc.method} /api/v1/${r.path}${rc.hasId ? '/{id}' : ''}`;
      describe(name, () => {
        const url = (key: string) => `/api/v1/${r.path}${rc.url(key)}`;
        const send = (token: string | undefined, key: string, body?: unknown) =>
          t.app.inject({
            method: rc.method,
            url: url(key),
            headers: token ? { authorization: `Bearer ${token}` } : {},
            ...(body !== undefined ? { payload: body as object } : {}),
          });

        it('401 without a key (bare challenge)', async () => {
          const res = await send(undefined, aliceItems.get(r.path) ?? '', rc.body(r));
          expect(res.statusCode).toBe(401);
          expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', error: true });
          expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="MONOid"/);
          expect(res.headers['www-authenticate']).not.toMatch(/error=/);
        });

        it('401 with a revoked key', async () => {
          const res = await send(revokedKey, aliceItems.get(r.path) ?? '', rc.body(r));
          expect(res.statusCode).toBe(401);
          expect(res.json().code).toBe('API_KEY_REVOKED');
        });

        it('401 with an expired key', async () => {
          const res = await send(expiredKey, aliceItems.get(r.path) ?? '', rc.body(r));
          expect(res.statusCode).toBe(401);
          expect(res.json().code).toBe('API_KEY_EXPIRED');
        });

        it(`403 without the ${rc.scope} scope`, async () => {
          const res = await send(
            scopedKeys.get(rc.scope),
            aliceItems.get(r.path) ?? '',
            rc.body(r),
          );
          expect(res.statusCode).toBe(403);
          expect(res.json().code).toBe('INSUFFICIENT_SCOPE');
          expect(res.headers['www-authenticate']).toContain(`scope="${rc.scope}"`);
        });

        if (rc.hasId) {
          it('404 for another user’s item', async () => {
            const res = await send(alice.key, bobItems.get(r.path) ?? '', rc.body(r));
            expect(res.statusCode, res.body).toBe(404);
            expect(res.json().code).toBe('NOT_FOUND');
          });

          it('404 for a malformed id', async () => {
            const res = await send(alice.key, r.invalidId ?? 'not-a-uuid', rc.body(r));
            expect(res.statusCode, res.body).toBe(404);
            expect(res.json().code).toBe('NOT_FOUND');
          });
        } else if (rc.method === 'GET') {
          it('lists only the caller’s items', async () => {
            const res = await send(alice.key, '');
            const items = dataOf<Array<{ _id: string; date?: string }>>(res);
            const keys = items.map((i) => (r.path === 'daily_notes' ? i.date : i._id));
            expect(keys).toContain(aliceItems.get(r.path));
            expect(keys).not.toContain(bobItems.get(r.path));
          });

          it('400 with errors[] for a bad query', async () => {
            const res = await t.app.inject({
              method: 'GET',
              url: `${url('')}?${r.badQuery}`,
              headers: { authorization: `Bearer ${alice.key}` },
            });
            expect(res.statusCode, res.body).toBe(400);
            expect(res.json().errors.length).toBeGreaterThan(0);
          });
        }

        if (rc.method === 'POST' || rc.method === 'PATCH') {
          it('400 with errors[] for a bad body, writing nothing', async () => {
            const before = dataOf<unknown[]>(
              await clientFor(t.app, alice.key)('GET', `/api/v1/${r.path}?limit=500`),
            );
            const res = await send(alice.key, aliceItems.get(r.path) ?? '', r.badBody);
            expect(res.statusCode, res.body).toBe(400);
            const body = res.json();
            expect(body.code).toBe('VALIDATION_ERROR');
            expect(body.errors.length).toBeGreaterThan(0);
            expect(body.errors[0]).toHaveProperty('path');
            const after = dataOf<unknown[]>(
              await clientFor(t.app, alice.key)('GET', `/api/v1/${r.path}?limit=500`),
            );
            expect(after).toEqual(before);
          });
        }
      });
    }
  }
});
