import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { type ApiUser, buildApiTestApp, createApiUser, dataOf } from '../helpers/workspaces.ts';

/**
 * Clients whose helper always sends `Content-Type: application/json` (every example of the
 * reference does) send it on bodiless requests too. Such a request with an empty body is a
 * request with `{}`: accepted where the route takes no body or only optional fields, and a
 * validation error naming the missing fields where it needs some.
 */
type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';

describe('JSON content type with an empty body', () => {
  let t: TestApp;
  let alice: ApiUser;
  const json = { 'content-type': 'application/json' };

  beforeAll(async () => {
    t = await buildApiTestApp(clerkEnv() as Record<string, string>);
    alice = await createApiUser(t.app);
  });
  afterAll(async () => t.close());

  const empty = (method: Method, url: string, headers: Record<string, string> = {}) =>
    t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${alice.key}`, ...json, ...headers },
      payload: '',
    });

  const seeds: Record<string, (u: ApiUser) => Promise<Record<string, unknown>>> = {
    organisations: async () => ({ id: `team-empty-${Date.now()}`, name: 'O' }),
    containers: async () => ({ name: 'C' }),
    projects: async (u) => ({
      title: 'P',
      containerId: dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/containers', { name: 'C' }),
        201,
      )._id,
    }),
    tasks: async () => ({ title: 'T' }),
    categories: async () => ({ name: 'Cat', entityType: 'task' }),
    labels: async () => ({ name: 'L', entityType: 'task' }),
    routine_blocks: async () => ({ dayOfWeek: 2, startTime: '09:00', endTime: '10:00' }),
    reviews: async () => ({ date: '2031-01-01', type: 'daily' }),
    daily_notes: async () => ({ date: '2031-01-02', content: 'x' }),
  };

  for (const [resource, seed] of Object.entries(seeds)) {
    it(`/api/v1/${resource}: GET, HEAD, PATCH and DELETE with an empty JSON body`, async () => {
      const created = dataOf<{ _id: string; date?: string }>(
        await alice.request('POST', `/api/v1/${resource}`, await seed(alice)),
        201,
      );
      const key = resource === 'daily_notes' ? String(created.date) : created._id;
      const item = `/api/v1/${resource}/${key}`;

      expect((await empty('GET', `/api/v1/${resource}`)).statusCode).toBe(200);
      const got = await empty('GET', item);
      expect(got.statusCode, got.body).toBe(200);
      expect((await empty('HEAD', item)).statusCode).toBe(200);
      // PATCH takes only optional fields: empty is `{}`, an update that changes nothing.
      const patched = await empty('PATCH', item);
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json().data).toEqual({
        ...got.json().data,
        updatedAt: patched.json().data.updatedAt,
      });
      const deleted = await empty('DELETE', item);
      expect(deleted.statusCode, deleted.body).toBe(200);
      expect(deleted.json()).toEqual({ data: { _id: created._id, deleted: true } });
      expect((await empty('GET', item)).statusCode).toBe(404);
    });
  }

  it('POST that needs fields: an empty body is `{}`, a 400 naming the missing ones', async () => {
    const res = await empty('POST', '/api/v1/tasks');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(res.json().errors.map((e: { path: string }) => e.path)).toContain('body.title');
  });

  it('GET /api/v1/me and a bodiless settings POST (revoke) accept it', async () => {
    expect((await empty('GET', '/api/v1/me')).statusCode).toBe(200);
    const victim = await createApiUser(t.app, { clerkUserId: alice.clerkUserId });
    const token = mintSessionToken({ sub: alice.clerkUserId });
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${victim.keyId}/revoke`,
      headers: { authorization: `Bearer ${token}`, ...json },
      payload: '',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.status).toBe('revoked');
  });

  it('still refuses malformed JSON and prototype poisoning', async () => {
    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { authorization: `Bearer ${alice.key}`, ...json },
      payload: '{"title":',
    });
    expect(bad.statusCode).toBe(400);
    const poisoned = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { authorization: `Bearer ${alice.key}`, ...json },
      payload: '{"title":"t","__proto__":{"polluted":true}}',
    });
    expect(poisoned.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('over the wire: DELETE with the header and no body at all (no Content-Length)', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const created = dataOf<{ _id: string }>(
      await alice.request('POST', '/api/v1/containers', { name: 'wire' }),
      201,
    );
    const res = await fetch(`${address}/api/v1/containers/${created._id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.key}`, ...json },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { _id: created._id, deleted: true } });
  });
});
