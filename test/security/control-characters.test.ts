import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createApiUser } from '../helpers/workspaces.ts';

// Security findings 5 (NUL in an automation → 500, with the failing query's parameters in the
// log) and 6 (a provider credential with a control character → 503 instead of 400).

describe('NUL and control characters', () => {
  let t: TestApp;
  let linear: FakeLinear;
  const session = { authorization: `Bearer ${mintSessionToken({ sub: 'user_nul' })}` };

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: ['lin_api_nul_test'] });
    t = await buildTestApp({
      env: {
        ...clerkEnv(),
        ...linear.env(),
        API_KEY_ARGON2_MEMORY_KIB: '1024',
        API_KEY_ARGON2_TIME_COST: '1',
      },
      overrides: {
        skipReconciler: true,
        extraRoutes: (app) => {
          // A query that fails in Postgres with a client-supplied parameter.
          app.get('/test/failing-query', async (request) => {
            const { value } = request.query as { value: string };
            await app.database.db.execute(sql`select ${value}::int as n`);
            return { ok: true };
          });
        },
      },
    });
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  const automation = (over: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/settings/automations',
      headers: session,
      payload: {
        name: 'nul',
        trigger: { source: 'linear', event: 'issue.created' },
        conditions: { in: ['bug', { var: 'labels' }] },
        actions: [{ type: 'create_task', task: { title: '{{title}}' } }],
        ...over,
      },
    });

  it('an automation with NUL in its actions or conditions is a 400 naming the field', async () => {
    const inActions = await automation({
      actions: [{ type: 'create_task', task: { title: 'x\u0000y' } }],
    });
    const inConditions = await automation({ conditions: { in: ['b\u0000ug', { var: 'labels' }] } });
    expect([inActions.statusCode, inConditions.statusCode]).toEqual([400, 400]);
    expect(inActions.json().errors[0].path).toBe('body.actions.0.task.title');
    expect(inConditions.json().errors[0].path).toBe('body.conditions.in.0');
    const listed = await t.app.inject({ url: '/api/settings/automations', headers: session });
    expect(listed.json().data).toEqual([]);
  });

  it('NUL anywhere in a public API body, query or key is a 400, never a 500', async () => {
    const user = await createApiUser(t.app);
    const body = await user.request('POST', '/api/v1/tasks', { title: 'a\u0000b' });
    expect(body.statusCode).toBe(400);
    expect(body.json().errors[0].path).toBe('body.title');
    const key = await user.request('POST', '/api/v1/tasks', { title: 't', 'x\u0000': 1 });
    expect(key.statusCode).toBe(400);
    const query = await user.request('GET', '/api/v1/tasks?bucket=to%00do');
    expect(query.statusCode).toBe(400);
    expect(query.json().errors[0].path).toBe('query.bucket');
  });

  it('NUL in a path id is the documented 400; in an undeclared query parameter it is ignored', async () => {
    const user = await createApiUser(t.app);
    const created = await user.request('POST', '/api/v1/tasks', { title: 'kept' });
    const id = created.json().data._id as string;

    const inPath = await user.request('GET', '/api/v1/tasks/ab%00cd');
    expect(inPath.statusCode).toBe(400);
    expect(inPath.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(inPath.json().errors[0].path).toBe('params.id');
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    const getTask = doc.paths['/api/v1/tasks/{id}'].get;
    expect(getTask.responses['400'].content['application/problem+json']).toBeDefined();

    // Undeclared: never read, so neither refused nor documented as a 400.
    const me = await user.request('GET', '/api/v1/me?debug=%00');
    expect(me.statusCode).toBe(200);
    expect(doc.paths['/api/v1/me'].get.responses['400']).toBeUndefined();
    const one = await user.request('GET', `/api/v1/tasks/${id}?x=a%00b`);
    expect(one.statusCode).toBe(200);
    const deleted = await user.request('DELETE', `/api/v1/tasks/${id}?x=%00`);
    expect(deleted.statusCode).toBe(200);
  });

  it('a failed query is logged without its parameters', async () => {
    const marker = 'not-a-number-7f3a9c';
    const res = await t.app.inject({ url: `/test/failing-query?value=${marker}` });
    expect(res.statusCode).toBe(400);
    const lines = t.logs.lines.filter((l) => l.includes('request failed'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(marker);
  });

  it('provider credentials with a control character are a 400 naming the field', async () => {
    const linearKey = await t.app.inject({
      method: 'POST',
      url: '/api/settings/integrations/linear/api-key',
      headers: session,
      payload: { apiKey: 'lin_api_\u0001x' },
    });
    expect(linearKey.statusCode).toBe(400);
    expect(linearKey.json().errors[0].path).toBe('body.apiKey');
    const notionToken = await t.app.inject({
      method: 'POST',
      url: '/api/settings/integrations/notion/token',
      headers: session,
      payload: { token: 'ntn_\r\nX-Injected: 1' },
    });
    expect(notionToken.statusCode).toBe(400);
    expect(notionToken.json().errors[0].path).toBe('body.token');
    // A pasted key with surrounding whitespace still works.
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/settings/integrations/linear/api-key',
      headers: session,
      payload: { apiKey: ' lin_api_nul_test\n' },
    });
    expect(ok.statusCode).toBeLessThan(300);
  });
});
