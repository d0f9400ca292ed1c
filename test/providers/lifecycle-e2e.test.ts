import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents, linearBackfills, tasks } from '../../src/db/schema.ts';
import { pkceChallenge } from '../../src/modules/providers/linear/linear-tokens.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createContainer, linearHeaders, linearIssuePayload } from '../integrations/fixtures.ts';
import { linearOAuthEnv, TEST_ENCRYPTION_KEY } from './support.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LIFETIME_S = 3;
const who = { sub: 'user_lifecycle_e2e' };

/**
 * A new user's Linear OAuth connection against a fake Linear issuing 3-second tokens, as the
 * issue reproduced it: before, the first call after expiry set `status: error` and no refresh
 * was ever tried. Two app instances share one database.
 */
describe('Linear OAuth connection with short-lived tokens, end to end', () => {
  let db: TestDatabase;
  let linear: FakeLinear;
  let a: TestApp;
  let b: TestApp;
  let containerId = '';

  const call = (
    t: TestApp,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: Record<string, unknown>,
  ) =>
    t.app.inject({
      method,
      url: `/api/settings/integrations${url}`,
      headers: { authorization: `Bearer ${mintSessionToken(who)}` },
      ...(payload ? { payload } : {}),
    });

  /** The settings UI's OAuth round trip (authorize, consent at Linear, callback). */
  const connect = async (t: TestApp) => {
    const start = await call(t, 'POST', '/linear/oauth/authorize');
    expect(start.statusCode).toBe(200);
    const { authorizeUrl, state } = start.json().data;
    const url = new URL(authorizeUrl);
    // PKCE (S256) on the authorize step: Linear checks the verifier at the exchange.
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const challenge = url.searchParams.get('code_challenge') ?? '';
    expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const code = `code-${randomUUID()}`;
    linear.oauthCodes.set(code, `lin_oauth_${randomUUID()}`);
    linear.oauthChallenges.set(code, challenge);
    const res = await call(t, 'POST', '/linear/oauth/callback', { code, state });
    expect(res.statusCode).toBe(201);
    const exchange = linear.tokenRequests.at(-1);
    expect(pkceChallenge(exchange?.get('code_verifier') ?? '')).toBe(challenge);
    return res.json().data;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    linear = await startFakeLinear({ tokenLifetimeSeconds: LIFETIME_S });
    const env = {
      ...clerkEnv(),
      ...linearOAuthEnv(linear),
      PUBLIC_BASE_URL: 'https://monoid.example',
      ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      AUTOMATION_WORKER_ENABLED: 'false',
      AUTOMATION_BACKFILL_PAGE_SIZE: '10',
      PROVIDER_RATE_LIMIT_JITTER_MS: '0',
    };
    a = await buildTestApp({ db, env, overrides: { skipReconciler: true } });
    b = await buildTestApp({ db, env, overrides: { skipReconciler: true } });
    // Backfill pages that take a while: the backfill outlives a token.
    const issues = Array.from({ length: 40 }, (_, i) => ({
      id: `iss-${i}`,
      identifier: `ENG-${i}`,
      title: `Issue ${i}`,
      description: null,
      priority: 0,
      dueDate: null,
      url: `https://linear.app/acme/issue/ENG-${i}`,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-03T00:00:00.000Z',
      archivedAt: null,
      state: { id: 'st-1', name: 'Todo', type: 'unstarted' },
      team: { id: linear.teams[0]?.id, key: 'ENG', name: 'Engineering' },
      assignee: null,
      labels: { nodes: [] },
      project: null,
    }));
    linear.handle('MonoidBackfillProjects', () => ({
      team: { projects: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } },
    }));
    linear.handle('MonoidBackfillIssues', async (variables) => {
      await sleep(1_000);
      const start = variables.after ? Number(variables.after) : 0;
      const nodes = issues.slice(start, start + Number(variables.first));
      const end = start + nodes.length;
      return {
        issues: { nodes, pageInfo: { hasNextPage: end < issues.length, endCursor: `${end}` } },
      };
    });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.destroy();
    await linear.close();
  });

  it('connects with OAuth (PKCE) and stores when the token expires', async () => {
    expect((await call(a, 'GET', '/')).statusCode).toBe(200); // the user exists from here
    const connection = await connect(a);
    expect(connection).toMatchObject({ authType: 'oauth', status: 'active' });
    containerId = await createContainer(a.app.database.db, { userClerkId: who.sub });
  });

  it('a backfill and a reconcile run across expiries without a failure', async () => {
    const refreshesBefore = linear.refreshRequests().length;
    const link = await call(a, 'PUT', `/linear/links/${containerId}`, {
      teamId: linear.teams[0]?.id,
    });
    expect(link.statusCode).toBe(200);
    // 4 pages of 1 s each: the 3-second token expires during the backfill.
    await sleep(LIFETIME_S * 1000);
    expect(await a.app.providers.linear.backfill.runOnce()).toBe(true);
    const [backfill] = await a.app.database.db.select().from(linearBackfills);
    expect(backfill).toMatchObject({ status: 'done', lastError: null, attempts: 1 });
    expect(backfill?.items).toBe(40);
    await sleep(LIFETIME_S * 1000);
    const reconcile = await call(a, 'POST', '/linear/reconcile');
    expect(reconcile.statusCode).toBe(200);
    expect(reconcile.json().data.error).toBeNull();
    const status = (await call(a, 'GET', '/linear')).json().data;
    expect(status).toMatchObject({ status: 'active', lastError: null });
    expect(linear.refreshRequests().length).toBeGreaterThanOrEqual(refreshesBefore + 2);
    // No Linear call was ever answered 401 after a refresh: every refresh was used.
    expect(linear.calls.every((c) => c.token)).toBe(true);
  });

  it('two instances refreshing at once make exactly one refresh call', async () => {
    await sleep(LIFETIME_S * 1000 + 200);
    const before = linear.refreshRequests().length;
    const answers = await Promise.all([
      call(a, 'GET', '/linear/teams'),
      call(b, 'GET', '/linear/teams'),
      call(a, 'GET', '/linear/teams'),
      call(b, 'GET', '/linear/teams'),
    ]);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    expect(linear.refreshRequests().length).toBe(before + 1);
  });

  it('a refused refresh: 409 reauthorization_required, shown in settings and /metrics; events kept and processed after reconnecting', async () => {
    linear.refreshTokens.clear(); // the person revoked the app at Linear
    await sleep(LIFETIME_S * 1000 + 200);
    const teams = await call(a, 'GET', '/linear/teams');
    expect(teams.statusCode).toBe(409);
    expect(teams.json()).toMatchObject({ code: 'CONFLICT' });
    expect(teams.json().detail).toMatch(/^reauthorization_required: .*invalid_grant/);
    const overview = (await call(b, 'GET', '/')).json().data.linear;
    expect(overview).toMatchObject({ status: 'reauthorization_required' });
    expect(overview.lastError).toMatch(/refused the refresh token \(invalid_grant\)/);
    const metrics = (await a.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /monoid_integration_connections\{provider="linear",status="reauthorization_required"\} 1/,
    );

    // Deliveries keep arriving and are stored, but wait for the admin.
    const hook = [...linear.webhooks.values()][0];
    const issueId = randomUUID();
    const body = JSON.stringify(
      linearIssuePayload({ webhookId: hook?.id ?? '', teamId: linear.teams[0]?.id ?? '', issueId }),
    );
    const delivery = await a.app.inject({
      method: 'POST',
      url: '/webhooks/linear',
      headers: linearHeaders(body, hook?.secret ?? ''),
      payload: body,
    });
    expect(delivery.statusCode).toBe(200);
    await a.app.inboxWorker.drain();
    const [waiting] = await a.app.database.db
      .select()
      .from(inboxEvents)
      .where(eq(inboxEvents.entityId, issueId));
    expect(waiting).toMatchObject({ state: 'pending', attempts: 0 });

    // The admin reconnects: the connection is active and the stored event is processed.
    const again = await connect(b);
    expect(again).toMatchObject({ status: 'active', lastError: null });
    await a.app.inboxWorker.drain();
    const [done] = await a.app.database.db
      .select()
      .from(inboxEvents)
      .where(eq(inboxEvents.entityId, issueId));
    expect(done?.state).toBe('processed');
    const created = await a.app.database.db
      .select()
      .from(tasks)
      .where(eq(tasks.containerId, containerId));
    expect(created.some((t) => t.title === 'Fix the thing')).toBe(true);
  });
});
