import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

describe('smoke', () => {
  let t: TestApp;
  let auth: Record<string, string>;
  beforeAll(async () => {
    t = await buildTestApp();
    const k = await createTestKey(t.app);
    auth = { authorization: `Bearer ${k.key}` };
  });
  afterAll(async () => t.close());

  it('round trip', async () => {
    const c = await t.app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      headers: auth,
      payload: { name: 'Work' },
    });
    expect(c.statusCode, c.body).toBe(201);
    const p = await t.app.inject({
      method: 'POST',
      url: '/api/v1/projects',
      headers: auth,
      payload: { title: 'P', containerId: c.json().data._id },
    });
    expect(p.statusCode, p.body).toBe(201);
    const task = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: auth,
      payload: { title: 'T', projectId: p.json().data._id, bucket: 'done' },
    });
    expect(task.statusCode, task.body).toBe(201);
    console.log(task.body);
    const l = await t.app.inject({
      method: 'GET',
      url: '/api/v1/tasks?bucket=done',
      headers: auth,
    });
    expect(l.statusCode, l.body).toBe(200);
    const o = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(o.statusCode, o.body.slice(0, 500)).toBe(200);
  });
});
