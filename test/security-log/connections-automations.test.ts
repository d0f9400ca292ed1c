import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityEvents } from '../../src/db/schema.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';

const LINEAR_KEY = 'lin_api_security_log_key';

/**
 * Connections and automations changed through the settings API each leave one security-log
 * entry, by the user, with address and user agent, and nothing secret.
 */
describe('security log: connections, automations, replays', () => {
  let t: TestApp;
  let linear: FakeLinear;
  let clerkUserId: string;
  let userId: string;

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    t.app.inject({
      method,
      url: `/api/settings${url}`,
      headers: {
        authorization: `Bearer ${mintSessionToken({ sub: clerkUserId })}`,
        'user-agent': 'settings-ui/3',
      },
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  const entries = async () =>
    (
      (await call('GET', '/security-log?limit=200')).json() as {
        data: Array<{
          action: string;
          actor: { type: string; userId: string | null };
          target: { type: string; id: string };
          address: string | null;
          userAgent: string | null;
        }>;
      }
    ).data;

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [LINEAR_KEY] });
    t = await buildTestApp({
      env: {
        ...clerkEnv(),
        ...linear.env(),
        PUBLIC_BASE_URL: 'https://monoid.example',
        AUTOMATION_WORKER_ENABLED: 'false',
      },
      overrides: { skipReconciler: true },
    });
    const key = await createTestKey(t.app);
    clerkUserId = key.clerkUserId;
    userId = key.userId;
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  it('connect, reconnect, automation create/update/replay/delete, disconnect: one entry each', async () => {
    const connected = await call('POST', '/integrations/linear/api-key', { apiKey: LINEAR_KEY });
    expect(connected.statusCode, connected.body).toBeLessThan(300);
    const again = await call('POST', '/integrations/linear/api-key', { apiKey: LINEAR_KEY });
    expect(again.statusCode, again.body).toBeLessThan(300);

    const rule = {
      name: 'Bugs',
      trigger: {
        source: 'linear',
        event: 'issue.created',
        scope: { teamId: linear.teams[0]?.id },
      },
      actions: [{ type: 'create_task', task: { title: '{{title}}' } }],
    };
    const created = await call('POST', '/automations', rule);
    expect(created.statusCode, created.body).toBe(201);
    const automationId = created.json().data.id as string;
    expect(
      (await call('PATCH', `/automations/${automationId}`, { name: 'Bugs!' })).statusCode,
    ).toBe(200);
    expect((await call('POST', '/automations/replay', { deadLettered: true })).statusCode).toBe(
      200,
    );
    expect((await call('DELETE', `/automations/${automationId}`)).statusCode).toBe(200);
    expect((await call('DELETE', '/integrations/linear')).statusCode).toBe(200);

    const log = await entries();
    const actions = log.map((e) => e.action).sort();
    // The test's API key was made by the service without a request: not in the log.
    expect(actions).toEqual([
      'automation.created',
      'automation.deleted',
      'automation.updated',
      'connection.connected',
      'connection.disconnected',
      'connection.reauthorized',
      'replay.requested',
    ]);
    for (const e of log) {
      expect(e.actor).toMatchObject({ type: 'user', userId });
      expect(e.userAgent).toBe('settings-ui/3');
      expect(e.address).toBeTruthy();
    }
    expect(
      log.filter((e) => e.target.type === 'automation').every((e) => e.target.id === automationId),
    ).toBe(true);

    const text = JSON.stringify(await t.db.database.db.select().from(securityEvents));
    expect(text).not.toContain(LINEAR_KEY);
  });
});
