import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents, linearBackfills, tasks } from '../../src/db/schema.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createContainer, linearHeaders, linearIssuePayload } from '../integrations/fixtures.ts';
import { linearOAuthEnv, type ManualClock, manualClock, TEST_ENCRYPTION_KEY } from './support.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const who = { sub: 'user_linear_week' };
const empty = { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };

/**
 * The issue's "done when": a Linear OAuth connection works for a week of simulated time. The
 * whole app runs on a clock the test moves (token expiries, budgets), against a loopback
 * Linear issuing tokens that live 24 h as Linear's do, with a rotating refresh token. Each
 * simulated day a webhook is delivered and processed, the reconciler runs and the settings
 * API calls Linear; nothing may fail, and the connection must stay active.
 */
describe('a Linear OAuth connection over a week of simulated time (the app)', () => {
  let db: TestDatabase;
  let linear: FakeLinear;
  let t: TestApp;
  let clock: ManualClock;

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    t.app.inject({
      method,
      url: `/api/settings/integrations${url}`,
      headers: { authorization: `Bearer ${mintSessionToken(who)}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    clock = manualClock(Date.now());
    linear = await startFakeLinear({ tokenLifetimeSeconds: 24 * 3600, now: () => clock.now() });
    linear.handle('MonoidBackfillProjects', () => ({ team: { projects: empty } }));
    linear.handle('MonoidBackfillIssues', () => ({ issues: empty }));
    t = await buildTestApp({
      db,
      env: {
        ...clerkEnv(),
        ...linearOAuthEnv(linear),
        PUBLIC_BASE_URL: 'https://monoid.example',
        ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        AUTOMATION_WORKER_ENABLED: 'false',
        PROVIDER_RATE_LIMIT_JITTER_MS: '0',
      },
      overrides: { skipReconciler: true, clock },
    });
  });
  afterAll(async () => {
    await t?.close();
    await db?.destroy();
    await linear?.close();
  });

  it('webhooks, a reconcile and API calls every day: no failure, daily refreshes, still active', async () => {
    // Connect the way the settings UI does (authorize, consent at Linear, callback).
    expect((await call('GET', '/')).statusCode).toBe(200);
    const start = (await call('POST', '/linear/oauth/authorize')).json().data;
    const code = `code-${randomUUID()}`;
    linear.oauthCodes.set(code, `lin_oauth_${randomUUID()}`);
    linear.oauthChallenges.set(
      code,
      new URL(start.authorizeUrl).searchParams.get('code_challenge') ?? '',
    );
    const connected = await call('POST', '/linear/oauth/callback', { code, state: start.state });
    expect(connected.statusCode).toBe(201);
    const containerId = await createContainer(t.app.database.db, { userClerkId: who.sub });
    const teamId = linear.teams[0]?.id ?? '';
    expect((await call('PUT', `/linear/links/${containerId}`, { teamId })).statusCode).toBe(200);
    expect(await t.app.providers.linear.backfill.runOnce()).toBe(true);
    const [backfill] = await t.app.database.db.select().from(linearBackfills);
    expect(backfill).toMatchObject({ status: 'done', lastError: null });
    const hook = [...linear.webhooks.values()][0];
    if (!hook?.secret) throw new Error('no webhook registered at Linear');
    const secret = hook.secret;

    const refreshesAtStart = linear.refreshRequests().length;
    const issueIds: string[] = [];
    for (let day = 1; day <= 7; day++) {
      // A day and a bit: every day starts with yesterday's token expired.
      clock.advance(DAY + 17 * 60_000);

      // A webhook arrives (signed now, as Linear does) and the worker processes it.
      const issueId = randomUUID();
      issueIds.push(issueId);
      const body = JSON.stringify(linearIssuePayload({ webhookId: hook.id, teamId, issueId }));
      const delivery = await t.app.inject({
        method: 'POST',
        url: '/webhooks/linear',
        headers: linearHeaders(body, secret),
        payload: body,
      });
      expect(delivery.statusCode, `day ${day}: webhook`).toBe(200);
      await t.app.inboxWorker.drain();

      // The reconciler and the settings API call Linear with the day's token.
      const reconcile = await call('POST', '/linear/reconcile');
      expect(reconcile.statusCode, `day ${day}: reconcile`).toBe(200);
      expect(reconcile.json().data.error, `day ${day}: reconcile`).toBeNull();
      const teams = await call('GET', '/linear/teams');
      expect(teams.statusCode, `day ${day}: teams`).toBe(200);
      clock.advance(6 * HOUR);
      expect((await call('GET', '/linear/teams')).statusCode, `day ${day}: later`).toBe(200);

      const status = (await call('GET', '/linear')).json().data;
      expect(status, `day ${day}`).toMatchObject({ status: 'active', lastError: null });
    }

    // About one refresh a day (each day began with an expired token), never one per call.
    const refreshes = linear.refreshRequests().length - refreshesAtStart;
    expect(refreshes).toBeGreaterThanOrEqual(7);
    expect(refreshes).toBeLessThanOrEqual(8);
    // Every call carried a token still valid at that (simulated) time: refreshed before it
    // expired, so Linear never had to answer 401.
    const expired = linear.calls.filter(
      (c, i) => (linear.tokenExpiry.get(c.token ?? '') ?? 0) <= (linear.callTimes[i] ?? 0),
    );
    expect(expired.map((c) => c.operation)).toEqual([]);
    expect(linear.calls.length).toBeGreaterThanOrEqual(7 * 3);
    // Every day's event was processed into a task of the linked container.
    const events = await t.app.database.db.select().from(inboxEvents);
    expect(events.filter((e) => issueIds.includes(e.entityId ?? '')).map((e) => e.state)).toEqual(
      Array(7).fill('processed'),
    );
    const created = await t.app.database.db
      .select()
      .from(tasks)
      .where(eq(tasks.containerId, containerId));
    expect(created.length).toBeGreaterThanOrEqual(7);
    const overview = (await call('GET', '/')).json().data.linear;
    expect(overview).toMatchObject({ status: 'active' });
  });
});
