import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { type ApiUser, buildApiTestApp, createApiUser, dataOf } from '../helpers/workspaces.ts';

/**
 * Drives the API the way the documented `monoid` CLI and a script written against the docs do:
 * `--if-not-exists` lookups, bulk updates by id (up to 25 in parallel), the documented flow
 * (container → project → tasks → done → filtered list → delete), 429 with Retry-After.
 */
describe('CLI and script compatibility', () => {
  let t: TestApp;
  let me: ApiUser;

  beforeAll(async () => {
    t = await buildApiTestApp();
    me = await createApiUser(t.app);
  });
  afterAll(async () => t.close());

  /** `monoid containers create --name X --if-not-exists`. */
  async function ensureContainer(name: string): Promise<{ _id: string; created: boolean }> {
    const all = dataOf<Array<{ _id: string; name: string }>>(
      await me.request('GET', '/api/v1/containers?limit=500'),
    );
    const found = all.find((c) => c.name === name);
    if (found) return { _id: found._id, created: false };
    const c = dataOf<{ _id: string }>(
      await me.request('POST', '/api/v1/containers', { name }),
      201,
    );
    return { _id: c._id, created: true };
  }

  /** `monoid reviews create --date D --type T --if-not-exists`. */
  async function ensureReview(date: string, type: string) {
    const found = dataOf<Array<{ _id: string }>>(
      await me.request('GET', `/api/v1/reviews?date=${date}&type=${type}`),
    );
    if (found[0]) return { _id: found[0]._id, created: false };
    const r = dataOf<{ _id: string }>(
      await me.request('POST', '/api/v1/reviews', { date, type }),
      201,
    );
    return { _id: r._id, created: true };
  }

  /** `monoid daily-notes create --date D --if-not-exists`. */
  async function ensureDailyNote(date: string) {
    const res = await me.request('GET', `/api/v1/daily_notes/${date}`);
    if (res.statusCode === 200) return { _id: dataOf<{ _id: string }>(res)._id, created: false };
    expect(res.statusCode).toBe(404);
    const n = dataOf<{ _id: string }>(
      await me.request('POST', '/api/v1/daily_notes', { date, content: '' }),
      201,
    );
    return { _id: n._id, created: true };
  }

  it('whoami', async () => {
    const res = await me.request('GET', '/api/v1/me');
    expect(res.statusCode).toBe(200);
  });

  it('--if-not-exists: container by name, review by date and type, daily note by date', async () => {
    const a = await ensureContainer('Studio');
    const b = await ensureContainer('Studio');
    expect(a.created).toBe(true);
    expect(b).toEqual({ _id: a._id, created: false });
    const r1 = await ensureReview('2026-11-27', 'weekly');
    const r2 = await ensureReview('2026-11-27', 'weekly');
    const r3 = await ensureReview('2026-11-27', 'daily');
    expect(r1.created && !r2.created && r3.created).toBe(true);
    expect(r2._id).toBe(r1._id);
    const n1 = await ensureDailyNote('2026-11-27');
    const n2 = await ensureDailyNote('2026-11-27');
    expect(n1.created).toBe(true);
    expect(n2).toEqual({ _id: n1._id, created: false });
  });

  it('the documented script: container, project, tasks, done, filtered list, delete', async () => {
    const container = dataOf<{ _id: string }>(
      await me.request('POST', '/api/v1/containers', { name: 'Work' }),
      201,
    );
    const project = dataOf<{ _id: string }>(
      await me.request('POST', '/api/v1/projects', { title: 'Launch', containerId: container._id }),
      201,
    );
    const taskIds: string[] = [];
    for (const title of ['Spec', 'Build', 'Ship']) {
      const task = dataOf<{ _id: string; containerId: string }>(
        await me.request('POST', '/api/v1/tasks', {
          title,
          projectId: project._id,
          bucket: 'todo',
        }),
        201,
      );
      expect(task.containerId).toBe(container._id);
      taskIds.push(task._id);
    }
    const done = dataOf<{ bucket: string; doneAt: number }>(
      await me.request('PATCH', `/api/v1/tasks/${taskIds[0]}`, { bucket: 'done' }),
    );
    expect(done.bucket).toBe('done');
    expect(typeof done.doneAt).toBe('number');
    const todo = dataOf<Array<{ _id: string }>>(
      await me.request('GET', `/api/v1/tasks?projectId=${project._id}&bucket=todo`),
    );
    expect(todo.map((x) => x._id).sort()).toEqual(taskIds.slice(1).sort());
    for (const id of taskIds) dataOf(await me.request('DELETE', `/api/v1/tasks/${id}`));
    dataOf(await me.request('DELETE', `/api/v1/projects/${project._id}`));
    dataOf(await me.request('DELETE', `/api/v1/containers/${container._id}`));
  });

  it('25 concurrent updates by id (one request per id) all apply', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      ids.push(
        dataOf<{ _id: string }>(await me.request('POST', '/api/v1/tasks', { title: `t${i}` }), 201)
          ._id,
      );
    }
    const results = await Promise.all(
      ids.map((id) => me.request('PATCH', `/api/v1/tasks/${id}`, { bucket: 'in_progress' })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(25).fill(200));
    const listed = dataOf<Array<{ _id: string }>>(
      await me.request('GET', '/api/v1/tasks?bucket=in_progress&limit=500'),
    );
    expect(new Set(listed.map((x) => x._id))).toEqual(new Set(ids));
    // And 25 concurrent updates of the same task apply in turn (row lock), none lost or failed.
    const one = ids[0]!;
    const same = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        me.request('PATCH', `/api/v1/tasks/${one}`, { notes: `n${i}` }),
      ),
    );
    expect(same.every((r) => r.statusCode === 200)).toBe(true);
    const final = dataOf<{ notes: string }>(await me.request('GET', `/api/v1/tasks/${one}`));
    expect(final.notes).toMatch(/^n\d+$/);
  });

  it('errors carry status and code for the CLI’s exit codes', async () => {
    const res = await me.request('GET', '/api/v1/tasks/00000000-0000-4000-8000-000000000000');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'NOT_FOUND', error: true });
    expect(res.json().message).toBe(res.json().detail);
  });
});

describe('CLI compatibility: rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildApiTestApp({ API_RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => t.close());

  it('answers 429 with Retry-After and RateLimit headers once the key’s budget is spent', async () => {
    const me = await createApiUser(t.app);
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<ApiUser['request']>> | undefined;
    for (let i = 0; i < 8 && !limited; i++) {
      const res = await me.request('GET', '/api/v1/tasks');
      statuses.push(res.statusCode);
      if (res.statusCode === 429) limited = res;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(limited?.statusCode).toBe(429);
    expect(limited?.json().code).toBe('RATE_LIMITED');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited?.headers.ratelimit ?? limited?.headers['ratelimit-policy']).toBeDefined();
  });
});
