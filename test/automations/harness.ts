import { randomBytes, randomUUID } from 'node:crypto';
import { automationHandler } from '../../src/modules/automations/automation.processor.ts';
import type { WorkerOptions } from '../../src/modules/inbox/inbox.worker.ts';
import type { Clock } from '../../src/modules/providers/budget/clock.ts';
import { signLinearBody } from '../../src/modules/providers/linear/linear-signature.ts';
import { signNotionBody } from '../../src/modules/providers/notion/notion-signature.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';

export const LINEAR_KEY = 'lin_api_automation_test_key';

/**
 * One user with an API key and a session, a Linear connection (personal API key, fake
 * Linear) and a container "Work" linked to the fake's first team: the webhook is registered
 * at the fake and deliveries can be signed with its secret. The inbox worker is off; tests
 * drive it with `drain()`.
 */
/** The automation engine of a test app as an inbox handler (for workers a test builds itself). */
export function engineOf(app: TestApp['app']) {
  return automationHandler({
    db: app.database.db,
    store: app.automations.store,
    sources: app.automations.sources,
    ownActorIds: [],
    log: app.log,
  });
}

/**
 * Inbox worker options for a worker a test builds itself: one batch in flight, a long lease,
 * retries at once; `overrides` sets what the test is about.
 */
export function workerOptions(
  app: TestApp['app'],
  overrides: Partial<WorkerOptions> = {},
): WorkerOptions & { log: TestApp['app']['log'] } {
  return {
    log: app.log,
    batchSize: 10,
    concurrency: 1,
    leaseMs: 60_000,
    pollMs: 50,
    maxAttempts: 5,
    retryBaseMs: 1,
    retryMaxMs: 1,
    ...overrides,
  };
}

export interface Harness {
  t: TestApp;
  linear: FakeLinear;
  userId: string;
  clerkUserId: string;
  auth: Record<string, string>;
  session: () => Record<string, string>;
  containerId: string;
  teamId: string;
  webhookId: string;
  secret: string;
  connectionId: string;
  deliverLinear(
    payload: Record<string, unknown>,
    deliveryId?: string,
  ): Promise<{ statusCode: number; body: string }>;
  drain(): Promise<number>;
  tasks(query?: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    env?: Record<string, string>;
    db?: TestDatabase;
    link?: boolean;
    /** A fake already running (e.g. shared with server processes); closed with the harness. */
    linear?: FakeLinear;
    /** The app's clock (token expiries, budgets, retention windows). */
    clock?: Clock;
  } = {},
): Promise<Harness> {
  const linear = options.linear ?? (await startFakeLinear({ tokens: [LINEAR_KEY] }));
  const t = await buildTestApp({
    env: {
      ...clerkEnv(),
      ...linear.env(),
      PUBLIC_BASE_URL: 'https://monoid.example',
      AUTOMATION_WORKER_ENABLED: 'false',
      AUTOMATION_RETRY_BASE_MS: '1',
      AUTOMATION_RETRY_MAX_MS: '1',
      ...options.env,
    },
    overrides: { skipReconciler: true, ...(options.clock ? { clock: options.clock } : {}) },
    ...(options.db ? { db: options.db } : {}),
  });
  const key = await createTestKey(t.app);
  const auth = { authorization: `Bearer ${key.key}` };
  const container = await t.app.inject({
    method: 'POST',
    url: '/api/v1/containers',
    headers: auth,
    payload: { name: 'Work' },
  });
  if (container.statusCode !== 201) throw new Error(container.body);
  const containerId = container.json().data._id as string;
  const workspace = { organisationId: null, userId: key.userId };
  const connection = await t.app.providers.linear.connect.connectApiKey({
    workspace,
    userId: key.userId,
    apiKey: LINEAR_KEY,
  });
  const teamId = linear.teams[0]?.id ?? '';
  let webhookId = '';
  let secret = '';
  if (options.link !== false) {
    await t.app.providers.linear.connect.linkContainer({
      workspace,
      userId: key.userId,
      containerId,
      teamId,
    });
    const hook = [...linear.webhooks.values()][0];
    webhookId = hook?.id ?? '';
    secret = hook?.secret ?? '';
  }
  const h: Harness = {
    t,
    linear,
    userId: key.userId,
    clerkUserId: key.clerkUserId,
    auth,
    session: () => ({ authorization: `Bearer ${mintSessionToken({ sub: key.clerkUserId })}` }),
    containerId,
    teamId,
    webhookId,
    secret,
    connectionId: connection.id,
    async deliverLinear(payload, deliveryId = randomUUID()) {
      const body = JSON.stringify({
        ...payload,
        webhookId: h.webhookId,
        webhookTimestamp: Date.now(),
      });
      const res = await t.app.inject({
        method: 'POST',
        url: '/webhooks/linear',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'linear-delivery': deliveryId,
          'linear-event': String(payload.type),
          'linear-signature': signLinearBody(body, h.secret),
        },
        payload: body,
      });
      return { statusCode: res.statusCode, body: res.body };
    },
    drain: () => t.app.inboxWorker.drain(),
    async tasks(query = '') {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/v1/tasks${query}`,
        headers: auth,
      });
      if (res.statusCode !== 200) throw new Error(res.body);
      return res.json().data;
    },
    async close() {
      await t.close();
      await linear.close();
    },
  };
  return h;
}

/** Sets up a verified Notion subscription on a Notion connection of the harness user. */
export async function connectNotion(
  h: Harness,
  token: string,
): Promise<{ connectionId: string; deliver(event: Record<string, unknown>): Promise<number> }> {
  const workspace = { organisationId: null, userId: h.userId };
  const connection = await h.t.app.providers.notion.connect.connectToken({
    workspace,
    userId: h.userId,
    token,
  });
  const verificationToken = `secret_${randomUUID().replaceAll('-', '')}`;
  const handshake = await h.t.app.inject({
    method: 'POST',
    url: `/webhooks/notion?connection=${connection.id}`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ verification_token: verificationToken }),
  });
  if (handshake.statusCode !== 200) throw new Error(handshake.body);
  await h.t.app.providers.notion.connect.confirmVerification({
    workspace,
    verificationToken,
  });
  return {
    connectionId: connection.id,
    async deliver(event) {
      const body = JSON.stringify(event);
      const res = await h.t.app.inject({
        method: 'POST',
        url: '/webhooks/notion',
        headers: {
          'content-type': 'application/json',
          'x-notion-signature': signNotionBody(body, verificationToken),
        },
        payload: body,
      });
      return res.statusCode;
    },
  };
}

/**
 * The environment of a real server process (`startServerProcess`) on `db` and the fake
 * Linear, with the at-rest key its harness uses and the worker on.
 */
export function serverProcessEnv(
  input: { db: TestDatabase; linear: FakeLinear; encryptionKey: string },
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: input.db.url ?? '',
    ENCRYPTION_KEY: input.encryptionKey,
    ...(clerkEnv() as Record<string, string>),
    ...input.linear.env(),
    PUBLIC_BASE_URL: 'https://monoid.example',
    AUTOMATION_WORKER_ENABLED: 'true',
    ...env,
  };
}

/** A harness on its own Postgres database, and the environment of server processes sharing it. */
export async function startProcessHarness(env: Record<string, string> = {}): Promise<{
  linear: FakeLinear;
  h: Harness;
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  const db = await createTestDatabase();
  const linear = await startFakeLinear({ tokens: [LINEAR_KEY] });
  const encryptionKey = randomBytes(32).toString('base64');
  const h = await startHarness({ db, linear, env: { ENCRYPTION_KEY: encryptionKey } });
  return {
    linear,
    h,
    env: serverProcessEnv({ db, linear, encryptionKey }, env),
    async close() {
      await h.close();
      await db.destroy();
    },
  };
}
