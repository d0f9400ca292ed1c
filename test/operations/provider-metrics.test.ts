import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createUser } from '../integrations/fixtures.ts';

describe('provider call metrics', () => {
  let t: TestApp;
  let linear: FakeLinear;
  const apiKey = 'lin_api_metrics_key';

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [apiKey] });
    t = await buildTestApp({ env: linear.env(), overrides: { skipReconciler: true } });
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  it('records Linear calls by operation and outcome, and failures', async () => {
    const user = await createUser(t.app.database.db);
    const workspace = { organisationId: null, userId: user.id };
    await t.app.providers.linear.connect.connectApiKey({
      workspace,
      userId: user.id,
      apiKey,
    });
    await expect(
      t.app.providers.linear.connect.connectApiKey({
        workspace: { organisationId: null, userId: (await createUser(t.app.database.db)).id },
        userId: user.id,
        apiKey: 'lin_api_wrong',
      }),
    ).rejects.toThrow();
    const body = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const lines = body
      .split('\n')
      .filter((l) => l.startsWith('monoid_provider_call_duration_seconds_count{'));
    expect(lines.some((l) => l.includes('provider="linear"') && l.includes('outcome="ok"'))).toBe(
      true,
    );
    expect(lines.some((l) => l.includes('provider="linear"') && !l.includes('outcome="ok"'))).toBe(
      true,
    );
    expect(body).not.toContain(apiKey);
  });
});
