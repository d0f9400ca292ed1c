import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createUser } from './fixtures.ts';

const API_KEY = 'lin_api_reconcile_start';
const KEY = Buffer.alloc(32, 7).toString('base64');

describe('the reconciler at start', () => {
  let db: TestDatabase;
  let linear: FakeLinear;
  const env = () => ({
    ...linear.env(),
    PUBLIC_BASE_URL: 'https://monoid.example',
    ENCRYPTION_KEY: KEY,
    LINEAR_RECONCILE_INTERVAL_MS: '0',
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    linear = await startFakeLinear({ tokens: [API_KEY] });
  });
  afterAll(async () => {
    await db.destroy();
    await linear.close();
  });

  it('recreates a webhook that disappeared while the server was down', async () => {
    const first = await buildTestApp({ db, env: env(), overrides: { skipReconciler: true } });
    const user = await createUser(first.app.database.db);
    const connection = await first.app.providers.linear.connect.connectApiKey({
      workspace: { organisationId: null, userId: user.id },
      userId: user.id,
      apiKey: API_KEY,
    });
    await first.app.providers.linear.registrations.ensure({
      connectionId: connection.id,
      teamId: linear.teams[0]!.id,
      reason: 'automation:a1',
    });
    await first.close();
    expect(linear.webhooks.size).toBe(1);
    linear.webhooks.clear();

    const second = await buildTestApp({ db, env: env() });
    try {
      for (let i = 0; i < 200 && linear.webhooks.size === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      expect(linear.webhooks.size).toBe(1);
      expect([...linear.webhooks.values()][0]).toMatchObject({
        url: 'https://monoid.example/webhooks/linear',
        teamId: linear.teams[0]!.id,
      });
    } finally {
      await second.close();
    }
  });

  it('releasing the last need of an automation deletes the webhook', async () => {
    const app = await buildTestApp({ db, env: env(), overrides: { skipReconciler: true } });
    try {
      const [connection] = await app.app.database.db.query.integrationConnections.findMany();
      const credentials = await app.app.integrations.credentials(connection!.id);
      expect(credentials).toMatchObject({ provider: 'linear', accessToken: API_KEY });
      await app.app.providers.linear.registrations.ensure({
        connectionId: connection!.id,
        teamId: linear.teams[0]!.id,
        reason: 'automation:a2',
      });
      expect(linear.webhooks.size).toBe(1);
      await app.app.providers.linear.registrations.release({
        connectionId: connection!.id,
        teamId: linear.teams[0]!.id,
        reason: 'automation:a1',
      });
      expect(linear.webhooks.size).toBe(1);
      await app.app.providers.linear.registrations.release({
        connectionId: connection!.id,
        teamId: linear.teams[0]!.id,
        reason: 'automation:a2',
      });
      expect(linear.webhooks.size).toBe(0);
    } finally {
      await app.close();
    }
  });
});
