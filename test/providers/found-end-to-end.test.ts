import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createContainer } from '../integrations/fixtures.ts';

const KEY = 'lin_api_found_e2e';

/** Bugs found by trying the product as a new user would (issue 11, "Found end to end"). */
describe('Linear settings, found end to end', () => {
  let t: TestApp;
  let linear: FakeLinear;
  const session = (sub: string) => ({ authorization: `Bearer ${mintSessionToken({ sub })}` });
  const call = (
    sub: string,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: Record<string, unknown>,
  ) => t.app.inject({ method, url, headers: session(sub), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [KEY] });
    t = await buildTestApp({
      env: { ...clerkEnv(), ...linear.env(), PUBLIC_BASE_URL: 'https://monoid.example' },
      overrides: { skipReconciler: true },
    });
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  it('a rule saved before Linear is connected gets its webhook once Linear is connected', async () => {
    const sub = 'user_rule_first';
    const teamId = linear.teams[1]?.id ?? '';
    const rule = await call(sub, 'POST', '/api/settings/automations', {
      name: 'Design issues to tasks',
      trigger: { source: 'linear', event: 'issue.created', scope: { teamId } },
      actions: [
        { type: 'create_task', task: { title: '{{title}}' }, container: { name: 'Inbox' } },
      ],
    });
    expect(rule.statusCode).toBe(201);
    const ruleId = rule.json().data.id;
    expect(linear.webhooks.size).toBe(0); // nothing to register it with yet
    const connected = await call(sub, 'POST', '/api/settings/integrations/linear/api-key', {
      apiKey: KEY,
    });
    expect(connected.statusCode).toBe(201);
    const webhooks = (await call(sub, 'GET', '/api/settings/integrations/linear')).json().data
      .webhooks;
    expect(webhooks).toEqual([
      expect.objectContaining({ teamId, status: 'active', needs: [`automation:${ruleId}`] }),
    ]);
    expect([...linear.webhooks.values()].map((w) => w.teamId)).toEqual([teamId]);
  });

  it('PUT .../linear/links/{id} answers the webhook needs that GET .../linear shows', async () => {
    const sub = 'user_rule_first';
    const teamId = linear.teams[1]?.id ?? '';
    const containerId = await createContainer(t.app.database.db, { userClerkId: sub });
    const link = await call(sub, 'PUT', `/api/settings/integrations/linear/links/${containerId}`, {
      teamId,
    });
    expect(link.statusCode).toBe(200);
    const shown = (await call(sub, 'GET', '/api/settings/integrations/linear')).json().data
      .webhooks[0];
    expect(shown.needs).toHaveLength(2);
    expect(link.json().data.webhook.needs).toEqual(shown.needs);
  });

  it('Linear refusing credentials is the provider failing (502), not a bad request', async () => {
    const res = await call('user_bad_key', 'POST', '/api/settings/integrations/linear/api-key', {
      apiKey: 'lin_api_revoked',
    });
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.json().detail).toMatch(/Linear: the credentials were rejected/);
  });
});
