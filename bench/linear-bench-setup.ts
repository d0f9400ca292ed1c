/**
 * What the benches that drive Linear sync share: the server environment for a bench database
 * and the fake Linear, and a workspace set up through the real services (a user with an API
 * key, a container "Bench" linked to the fake's first team, its webhook registered).
 */
import { randomBytes } from 'node:crypto';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createTestKey } from '../test/helpers/api-keys.ts';
import type { FakeLinear } from '../test/helpers/fakes/linear-fake.ts';

export function linearBenchEnv(url: string, linear: FakeLinear): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: '12',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PUBLIC_BASE_URL: 'https://monoid.example',
    API_RATE_LIMIT_PER_MINUTE: '10000000',
    WEBHOOK_RATE_LIMIT_PER_MINUTE: '10000000',
    ADDRESS_RATE_LIMIT_PER_MINUTE: '10000000',
    AUTOMATION_POLL_MS: '1000',
    ...linear.env(),
  };
}

/** The setup app stays open for more setup; the caller closes it. */
export async function linearBenchWorkspace(
  env: Record<string, string>,
  linear: FakeLinear,
  linearKey: string,
) {
  const app = await buildApp(loadConfig({ ...env, AUTOMATION_WORKER_ENABLED: 'false' }), {
    skipMigrations: true,
    skipReconciler: true,
  });
  const key = await createTestKey(app);
  const auth = { authorization: `Bearer ${key.key}` };
  const created = await app.inject({
    method: 'POST',
    url: '/api/v1/containers',
    headers: auth,
    payload: { name: 'Bench' },
  });
  const containerId = created.json().data._id as string;
  const workspace = { organisationId: null, userId: key.userId };
  await app.providers.linear.connect.connectApiKey({
    workspace,
    userId: key.userId,
    apiKey: linearKey,
  });
  const teamId = linear.teams[0]?.id ?? '';
  const { link } = await app.providers.linear.connect.linkContainer({
    workspace,
    userId: key.userId,
    containerId,
    teamId,
  });
  const hook = [...linear.webhooks.values()][0];
  if (!hook?.secret) throw new Error('no webhook registered');
  return {
    app,
    auth,
    containerId,
    teamId,
    sync: link.sync,
    hook: { id: hook.id, secret: hook.secret },
  };
}
