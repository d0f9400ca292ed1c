import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents, integrationConnections, linearTeamLinks } from '../../src/db/schema.ts';
import { signNotionBody } from '../../src/modules/providers/notion/notion-signature.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { type FakeNotion, startFakeNotion } from '../helpers/fakes/notion-fake.ts';
import { createContainer, linearHeaders, linearIssuePayload } from './fixtures.ts';

const LINEAR_KEY_A = 'lin_api_org_a_key';
const LINEAR_KEY_B = 'lin_api_org_b_key';

const who = {
  adminA: { sub: 'user_admin_a', orgId: 'org_a', orgRole: 'org:admin' },
  memberA: { sub: 'user_member_a', orgId: 'org_a', orgRole: 'org:member' },
  adminB: { sub: 'user_admin_b', orgId: 'org_b', orgRole: 'org:admin' },
  personal: { sub: 'user_personal' },
} as const;
type Who = keyof typeof who;

describe('/api/settings/integrations', () => {
  let t: TestApp;
  let linear: FakeLinear;

  const call = (
    as: Who,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ) =>
    t.app.inject({
      method,
      url: `/api/settings/integrations${url}`,
      headers: { authorization: `Bearer ${mintSessionToken(who[as])}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [LINEAR_KEY_A, LINEAR_KEY_B] });
    t = await buildTestApp({
      env: {
        ...clerkEnv(),
        ...linear.env(),
        PUBLIC_BASE_URL: 'https://monoid.example',
        LINEAR_CLIENT_ID: 'lin_client',
        LINEAR_CLIENT_SECRET: 'lin_client_secret',
        LINEAR_OAUTH_REDIRECT_URI: 'https://app.monoid.example/linear/callback',
      },
      overrides: { skipReconciler: true },
    });
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  it('requires a session', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/settings/integrations' });
    expect(res.statusCode).toBe(401);
  });

  it('documents the routes in /openapi.json, without any secret field', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const path of [
      '/webhooks/linear/',
      '/webhooks/notion/',
      '/api/settings/integrations/',
      '/api/settings/integrations/linear/links/{containerId}',
      '/api/settings/integrations/notion/verification/confirm',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
    const schemas = doc.components.schemas;
    const fields = ['IntegrationConnection', 'LinearWebhookStatus', 'NotionSubscription'].flatMap(
      (name) => Object.keys(schemas[name].properties),
    );
    expect(fields).toContain('lastEventAt');
    for (const field of fields) expect(field).not.toMatch(/token|secret|enc$/i);
  });

  it('starts empty', async () => {
    const res = await call('adminA', 'GET', '/');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ data: { linear: null, notion: null } });
  });

  describe('Linear OAuth', () => {
    it('refuses a callback whose state was never issued, and exchanges nothing', async () => {
      const res = await call('personal', 'POST', '/linear/oauth/callback', {
        code: 'code-1',
        state: 'forged-state',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().detail).toMatch(/state/);
      expect(linear.tokenRequests).toHaveLength(0);
    });

    it('refuses a state issued to another user (login CSRF)', async () => {
      const start = await call('adminB', 'POST', '/linear/oauth/authorize');
      expect(start.statusCode).toBe(200);
      const { state } = start.json().data;
      linear.oauthCodes.set('code-2', 'lin_oauth_token_2');
      const res = await call('personal', 'POST', '/linear/oauth/callback', {
        code: 'code-2',
        state,
      });
      expect(res.statusCode).toBe(400);
      expect(linear.tokenRequests).toHaveLength(0);
    });

    it('connects with a valid state, once', async () => {
      const start = await call('personal', 'POST', '/linear/oauth/authorize');
      const { authorizeUrl, state } = start.json().data;
      const url = new URL(authorizeUrl);
      expect(url.origin + url.pathname).toBe(`${linear.url}/oauth/authorize`);
      expect(url.searchParams.get('client_id')).toBe('lin_client');
      expect(url.searchParams.get('state')).toBe(state);
      expect(url.searchParams.get('scope')).toContain('admin');
      linear.oauthCodes.set('code-3', 'lin_oauth_token_3');
      const res = await call('personal', 'POST', '/linear/oauth/callback', {
        code: 'code-3',
        state,
      });
      expect(res.statusCode).toBe(201);
      expect(res.json().data).toMatchObject({
        provider: 'linear',
        authType: 'oauth',
        status: 'active',
        workspaceName: 'Acme Linear',
      });
      expect(JSON.stringify(res.json())).not.toContain('lin_oauth_token_3');
      const [exchange] = linear.tokenRequests;
      expect(exchange?.get('code')).toBe('code-3');
      expect(exchange?.get('redirect_uri')).toBe('https://app.monoid.example/linear/callback');
      // The OAuth token (Bearer) is what later calls use.
      expect(linear.calls.at(-1)?.token).toBe('lin_oauth_token_3');
      const replay = await call('personal', 'POST', '/linear/oauth/callback', {
        code: 'code-3',
        state,
      });
      expect(replay.statusCode).toBe(400);
    });

    it('another signed-in user presenting a state does not burn it: its owner still connects', async () => {
      const start = await call('personal', 'POST', '/linear/oauth/authorize');
      const { state } = start.json().data;
      linear.oauthCodes.set('code-4', 'lin_oauth_token_4');
      const stolen = await call('adminA', 'POST', '/linear/oauth/callback', {
        code: 'code-4',
        state,
      });
      expect(stolen.statusCode).toBe(400);
      const requestsBefore = linear.tokenRequests.length;
      const own = await call('personal', 'POST', '/linear/oauth/callback', {
        code: 'code-4',
        state,
      });
      expect(own.statusCode).toBe(201);
      expect(linear.tokenRequests.at(requestsBefore)?.get('code')).toBe('code-4');
    });
  });

  describe('organisation connection, links and webhooks', () => {
    const containerA1 = randomUUID();
    const containerA2 = randomUUID();
    // Links need real containers of organisation A (created once its admin has signed in).
    const orgAContainer = (id?: string) =>
      createContainer(t.app.database.db, {
        userClerkId: who.adminA.sub,
        organisationClerkId: who.adminA.orgId,
        ...(id ? { id } : {}),
      });
    beforeAll(async () => {
      await call('adminA', 'GET', '/');
      await orgAContainer(containerA1);
      await orgAContainer(containerA2);
    });

    it('lets only admins connect; a rejected key stores nothing', async () => {
      const member = await call('memberA', 'POST', '/linear/api-key', { apiKey: LINEAR_KEY_A });
      expect(member.statusCode).toBe(403);
      // Linear's own refusals are the provider failing (502), never the client's fault (400).
      const bad = await call('adminA', 'POST', '/linear/api-key', { apiKey: 'lin_api_wrong' });
      expect(bad.statusCode).toBe(502);
      expect(bad.json().detail).toMatch(/Linear: the credentials were rejected/);
      linear.failNext('MonoidOrganization');
      const failing = await call('adminA', 'POST', '/linear/api-key', { apiKey: LINEAR_KEY_A });
      expect(failing.statusCode).toBe(502);
      expect(failing.json().detail).toMatch(/Linear: the request failed/);
      expect((await call('adminA', 'GET', '/linear')).statusCode).toBe(404);
      const ok = await call('adminA', 'POST', '/linear/api-key', { apiKey: LINEAR_KEY_A });
      expect(ok.statusCode).toBe(201);
      expect(ok.json().data).toMatchObject({ authType: 'api_key', webhooks: [], notion: null });
      // Members can read the status.
      expect((await call('memberA', 'GET', '/linear')).statusCode).toBe(200);
    });

    it('lists the teams through the SDK', async () => {
      const res = await call('adminA', 'GET', '/linear/teams');
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toEqual(linear.teams);
      expect(linear.callsOf('teams').at(-1)?.token).toBe(LINEAR_KEY_A);
    });

    it('registers one webhook per team, shared by links (reference counted)', async () => {
      const teamId = linear.teams[0]!.id;
      const before = linear.webhooks.size;
      const first = await call('adminA', 'PUT', `/linear/links/${containerA1}`, { teamId });
      expect(first.statusCode).toBe(200);
      expect(first.json().data).toMatchObject({
        containerId: containerA1,
        teamId,
        teamName: 'Engineering',
        webhook: { status: 'active', healthy: true },
      });
      const second = await call('adminA', 'PUT', `/linear/links/${containerA2}`, { teamId });
      expect(second.statusCode).toBe(200);
      expect(linear.webhooks.size).toBe(before + 1);
      const hook = [...linear.webhooks.values()].at(-1)!;
      expect(hook).toMatchObject({ url: 'https://monoid.example/webhooks/linear', teamId });
      const status = (await call('adminA', 'GET', '/linear')).json().data;
      expect(status.webhooks).toHaveLength(1);
      expect(status.webhooks[0]).toMatchObject({ teamId, teamName: 'Engineering', healthy: true });
      expect(status.webhooks[0].needs.sort()).toEqual(
        [`container:${containerA1}`, `container:${containerA2}`].sort(),
      );

      const body = JSON.stringify(linearIssuePayload({ webhookId: hook.id, teamId }));
      const delivered = await t.app.inject({
        method: 'POST',
        url: '/webhooks/linear',
        headers: linearHeaders(body, hook.secret!),
        payload: body,
      });
      expect(delivered.statusCode).toBe(200);
      const after = (await call('adminA', 'GET', '/linear')).json().data;
      expect(after.lastEventAt).toEqual(expect.any(Number));

      expect((await call('adminA', 'DELETE', `/linear/links/${containerA1}`)).statusCode).toBe(200);
      expect(linear.webhooks.has(hook.id)).toBe(true);
      expect((await call('adminA', 'DELETE', `/linear/links/${containerA2}`)).statusCode).toBe(200);
      expect(linear.webhooks.has(hook.id)).toBe(false);
      expect((await call('adminA', 'GET', '/linear')).json().data.webhooks).toEqual([]);
    });

    it('moving a container to another team moves the webhook need', async () => {
      const [team0, team1] = [linear.teams[0]!.id, linear.teams[1]!.id];
      const container = await orgAContainer();
      expect(
        (await call('adminA', 'PUT', `/linear/links/${container}`, { teamId: team0 })).statusCode,
      ).toBe(200);
      const moved = await call('adminA', 'PUT', `/linear/links/${container}`, { teamId: team1 });
      expect(moved.statusCode).toBe(200);
      expect(moved.json().data).toMatchObject({ teamId: team1, teamName: 'Design' });
      const hooks = [...linear.webhooks.values()];
      expect(hooks.filter((h) => h.teamId === team0)).toHaveLength(0);
      expect(hooks.filter((h) => h.teamId === team1)).toHaveLength(1);
      const links = (await call('adminA', 'GET', '/linear/links')).json().data;
      expect(links.filter((l: { containerId: string }) => l.containerId === container)).toEqual([
        expect.objectContaining({ teamId: team1 }),
      ]);
      expect((await call('adminA', 'DELETE', `/linear/links/${container}`)).statusCode).toBe(200);
      expect([...linear.webhooks.values()].filter((h) => h.teamId === team1)).toHaveLength(0);
    });

    it('refuses a team that is not in the connected workspace', async () => {
      const res = await call('adminA', 'PUT', `/linear/links/${containerA1}`, { teamId: 'nope' });
      expect(res.statusCode).toBe(400);
    });

    it('keeps another organisation out (404) and its admin cannot touch our links', async () => {
      const teamId = linear.teams[1]!.id;
      expect(
        (await call('adminA', 'PUT', `/linear/links/${containerA1}`, { teamId })).statusCode,
      ).toBe(200);
      expect((await call('adminB', 'GET', '/linear')).statusCode).toBe(404);
      expect((await call('adminB', 'DELETE', `/linear/links/${containerA1}`)).statusCode).toBe(404);
      expect((await call('adminB', 'POST', '/linear/reconcile')).statusCode).toBe(404);
      // With its own connection, B still cannot unlink or take over A's container.
      expect(
        (await call('adminB', 'POST', '/linear/api-key', { apiKey: LINEAR_KEY_B })).statusCode,
      ).toBe(201);
      expect((await call('adminB', 'DELETE', `/linear/links/${containerA1}`)).statusCode).toBe(404);
      expect(
        (await call('adminB', 'PUT', `/linear/links/${containerA1}`, { teamId })).statusCode,
      ).toBe(404);
      expect((await call('adminB', 'GET', '/linear/links')).json().data).toEqual([]);
      expect((await call('adminB', 'DELETE', '/linear')).statusCode).toBe(200);
      const links = await t.app.database.db
        .select()
        .from(linearTeamLinks)
        .where(eq(linearTeamLinks.containerId, containerA1));
      expect(links).toHaveLength(1);
      expect([...linear.webhooks.values()].filter((h) => h.teamId === teamId)).toHaveLength(1);
    });

    it('reconciles: recreates a webhook Linear lost, deletes our orphans, leaves others alone', async () => {
      const teamId = linear.teams[1]!.id;
      const lost = [...linear.webhooks.values()].find((h) => h.teamId === teamId)!;
      linear.webhooks.delete(lost.id);
      linear.webhooks.set('orphan-1', {
        id: 'orphan-1',
        url: 'https://monoid.example/webhooks/linear',
        teamId,
        label: 'MONOid',
        secret: 'x',
        enabled: true,
        resourceTypes: ['Issue'],
      });
      linear.webhooks.set('foreign-1', {
        id: 'foreign-1',
        url: 'https://zapier.example/hook',
        teamId,
        label: 'Zapier',
        secret: 'y',
        enabled: true,
        resourceTypes: ['Issue'],
      });
      const res = await call('adminA', 'POST', '/linear/reconcile');
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toMatchObject({ created: 1, orphansDeleted: 1, error: null });
      expect(linear.webhooks.has('orphan-1')).toBe(false);
      expect(linear.webhooks.has('foreign-1')).toBe(true);
      const ours = [...linear.webhooks.values()].filter(
        (h) => h.url === 'https://monoid.example/webhooks/linear',
      );
      expect(ours).toHaveLength(1);
      // The recreated webhook's deliveries verify with the same secret.
      const body = JSON.stringify(linearIssuePayload({ webhookId: ours[0]!.id, teamId }));
      const delivered = await t.app.inject({
        method: 'POST',
        url: '/webhooks/linear',
        headers: linearHeaders(body, ours[0]!.secret!),
        payload: body,
      });
      expect(delivered.statusCode).toBe(200);
      // A second run has nothing to do.
      const again = await call('adminA', 'POST', '/linear/reconcile');
      expect(again.json().data).toMatchObject({ created: 0, deleted: 0, orphansDeleted: 0 });
      linear.webhooks.delete('foreign-1');
    });

    it('keeps a link when Linear refuses the webhook, shows it unhealthy, and the reconciler repairs it', async () => {
      const teamId = linear.teams[0]!.id;
      const container = await orgAContainer();
      linear.failNext('createWebhook');
      const res = await call('adminA', 'PUT', `/linear/links/${container}`, { teamId });
      expect(res.statusCode).toBe(200);
      expect(res.json().data.webhook).toMatchObject({ status: 'missing', healthy: false });
      expect(res.json().data.webhook.lastError).toMatch(/Linear refused/);
      expect([...linear.webhooks.values()].filter((h) => h.teamId === teamId)).toHaveLength(0);
      const repaired = await call('adminA', 'POST', '/linear/reconcile');
      expect(repaired.json().data).toMatchObject({ created: 1, error: null });
      const status = (await call('adminA', 'GET', '/linear')).json().data;
      expect(status.webhooks.find((w: { teamId: string }) => w.teamId === teamId)).toMatchObject({
        status: 'active',
        healthy: true,
      });
      expect((await call('adminA', 'DELETE', `/linear/links/${container}`)).statusCode).toBe(200);
      expect([...linear.webhooks.values()].filter((h) => h.teamId === teamId)).toHaveLength(0);
    });

    it('concurrent links of one team register a single webhook', async () => {
      const teamId = linear.teams[0]!.id;
      const containers = await Promise.all([1, 2, 3, 4].map(() => orgAContainer()));
      const results = await Promise.all(
        containers.map((c) => call('adminA', 'PUT', `/linear/links/${c}`, { teamId })),
      );
      expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
      expect([...linear.webhooks.values()].filter((h) => h.teamId === teamId)).toHaveLength(1);
      for (const c of containers) await call('adminA', 'DELETE', `/linear/links/${c}`);
      expect([...linear.webhooks.values()].filter((h) => h.teamId === teamId)).toHaveLength(0);
    });

    it('reconcile releases the webhook of a link deleted behind its back (container cascade)', async () => {
      const teamId = linear.teams[0]!.id;
      const container = await orgAContainer();
      expect(
        (await call('adminA', 'PUT', `/linear/links/${container}`, { teamId })).statusCode,
      ).toBe(200);
      const hook = [...linear.webhooks.values()].find((h) => h.teamId === teamId)!;
      await t.app.database.db
        .delete(linearTeamLinks)
        .where(eq(linearTeamLinks.containerId, container));
      const res = await call('adminA', 'POST', '/linear/reconcile');
      expect(res.json().data).toMatchObject({ deleted: 1, error: null });
      expect(linear.webhooks.has(hook.id)).toBe(false);
    });

    it('disconnect deletes the webhooks at Linear, the tokens and the links', async () => {
      expect((await call('memberA', 'DELETE', '/linear')).statusCode).toBe(403);
      const res = await call('adminA', 'DELETE', '/linear');
      expect(res.statusCode).toBe(200);
      expect(
        [...linear.webhooks.values()].filter(
          (h) => h.url === 'https://monoid.example/webhooks/linear',
        ),
      ).toHaveLength(0);
      expect((await call('adminA', 'GET', '/linear')).statusCode).toBe(404);
      const rows = await t.app.database.db
        .select()
        .from(integrationConnections)
        .where(eq(integrationConnections.authType, 'api_key'));
      expect(rows).toHaveLength(0);
      expect((await call('adminA', 'GET', '/linear/links')).json().data).toEqual([]);
    });
  });
});

describe('Notion connection and webhook subscription', () => {
  let t: TestApp;
  let notion: FakeNotion;
  const token = 'ntn_internal_token_abc';
  let verificationToken = `secret_${randomUUID()}`;
  const call = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    as: Who = 'adminA',
  ) =>
    t.app.inject({
      method,
      url: `/api/settings/integrations${url}`,
      headers: { authorization: `Bearer ${mintSessionToken(who[as])}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const event = (overrides: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    timestamp: new Date().toISOString(),
    workspace_id: notion.workspace.id,
    workspace_name: notion.workspace.name,
    subscription_id: randomUUID(),
    integration_id: randomUUID(),
    type: 'page.properties_updated',
    authors: [{ id: randomUUID(), type: 'person' }],
    attempt_number: 1,
    api_version: '2025-09-03',
    entity: { id: randomUUID(), type: 'page' },
    data: { parent: { id: randomUUID(), type: 'database' }, updated_properties: ['title'] },
    ...overrides,
  });
  const post = (body: string, query: string, signature?: string) =>
    t.app.inject({
      method: 'POST',
      url: `/webhooks/notion${query}`,
      headers: {
        'content-type': 'application/json',
        ...(signature ? { 'x-notion-signature': signature } : {}),
      },
      payload: body,
    });
  const notionRows = () =>
    t.app.database.db.select().from(inboxEvents).where(eq(inboxEvents.provider, 'notion'));

  beforeAll(async () => {
    notion = await startFakeNotion({ tokens: [token] });
    t = await buildTestApp({
      env: {
        ...clerkEnv(),
        ...notion.env(),
        PUBLIC_BASE_URL: 'https://monoid.example',
        NOTION_CLIENT_ID: 'notion_client',
        NOTION_CLIENT_SECRET: 'notion_client_secret',
        NOTION_OAUTH_REDIRECT_URI: 'https://app.monoid.example/notion/callback',
      },
      overrides: { skipReconciler: true },
    });
  });
  afterAll(async () => {
    await t.close();
    await notion.close();
  });

  it('handshake, admin confirmation, then signed events land in the inbox once', async () => {
    const connected = await call('POST', '/notion/token', { token });
    expect(connected.statusCode).toBe(201);
    const connection = connected.json().data;
    expect(connection).toMatchObject({
      authType: 'internal_token',
      workspaceId: notion.workspace.id,
      notion: { verified: false, pendingVerification: false },
    });
    expect(notion.requests[0]?.headers['notion-version']).toBeTruthy();
    expect(notion.requests[0]?.headers.authorization).toBe(`Bearer ${token}`);

    const verification = (await call('GET', '/notion/verification')).json().data;
    const url = new URL(verification.webhookUrl);
    expect(url.pathname).toBe('/webhooks/notion');
    const query = url.search;
    expect(url.searchParams.get('connection')).toBe(connection.id);

    // Without the per-connection URL a handshake cannot be routed.
    const unrouted = await post(JSON.stringify({ verification_token: 'secret_x' }), '');
    expect(unrouted.statusCode).toBe(401);

    const handshake = await post(JSON.stringify({ verification_token: verificationToken }), query);
    expect(handshake.statusCode).toBe(200);
    expect(t.logs.text).not.toContain(verificationToken);
    const pending = (await call('GET', '/notion/verification')).json().data;
    expect(pending).toMatchObject({ verified: false, pendingToken: verificationToken });
    expect((await call('GET', '/notion/verification', undefined, 'memberA')).statusCode).toBe(403);

    // Not yet confirmed: events signed with the pending token are refused.
    const early = JSON.stringify(event());
    expect((await post(early, query, signNotionBody(early, verificationToken))).statusCode).toBe(
      401,
    );

    expect(
      (await call('POST', '/notion/verification/confirm', { verificationToken: 'secret_wrong' }))
        .statusCode,
    ).toBe(409);
    const confirmed = await call('POST', '/notion/verification/confirm', { verificationToken });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().data.notion).toMatchObject({
      verified: true,
      pendingVerification: false,
    });

    const payload = event();
    const body = JSON.stringify(payload);
    const signature = signNotionBody(body, verificationToken);
    for (const q of [query, '']) {
      const res = await post(body, q, signature);
      expect(res.statusCode).toBe(200);
    }
    const dump = await t.app.database.db.execute(
      sql`select row_to_json(c)::text as c from integration_connections c`,
    );
    const text = JSON.stringify((dump as unknown as { rows: unknown[] }).rows);
    expect(text).toContain('notion_verification_token_enc');
    expect(text).not.toContain(token);
    expect(text).not.toContain(verificationToken);

    const rows = await notionRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      deliveryId: payload.id,
      connectionId: connection.id,
      eventType: 'page.properties_updated',
      entityType: 'page',
      entityId: payload.entity.id,
      teamId: null,
      state: 'pending',
      payload,
    });
  });

  it('refuses tampered, unsigned and wrongly signed events, storing nothing', async () => {
    const verification = (await call('GET', '/notion/verification')).json().data;
    const query = new URL(verification.webhookUrl).search;
    const before = (await notionRows()).length;
    const body = JSON.stringify(event());
    const cases: Array<[string, string | undefined, number]> = [
      [body, undefined, 401],
      [body, signNotionBody(body, 'secret_other'), 401],
      [body, 'sha256=abc', 401],
      [
        body.replace('page.properties_updated', 'page.deleted'),
        signNotionBody(body, verificationToken),
        401,
      ],
      ['not json', 'sha256=00', 400],
    ];
    for (const [payload, signature, status] of cases) {
      const res = await post(payload, query, signature);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    // The untampered body with the right signature is accepted (the cases above are not vacuous).
    expect((await post(body, query, signNotionBody(body, verificationToken))).statusCode).toBe(200);
    expect((await notionRows()).length).toBe(before + 1);
  });

  it('a later handshake never replaces the confirmed token', async () => {
    const verification = (await call('GET', '/notion/verification')).json().data;
    const query = new URL(verification.webhookUrl).search;
    const attackerToken = 'secret_attacker';
    expect(
      (await post(JSON.stringify({ verification_token: attackerToken }), query)).statusCode,
    ).toBe(200);
    const status = (await call('GET', '/notion')).json().data;
    expect(status.notion).toMatchObject({ verified: true, pendingVerification: true });
    const forged = JSON.stringify(event());
    expect((await post(forged, query, signNotionBody(forged, attackerToken))).statusCode).toBe(401);
  });

  it('shows the webhook URL (it names the connection) to admins only', async () => {
    const admin = (await call('GET', '/notion')).json().data;
    expect(admin.notion.webhookUrl).toContain(`connection=${admin.id}`);
    for (const url of ['/notion', '/']) {
      const member = await call('GET', url, undefined, 'memberA');
      expect(member.statusCode).toBe(200);
      const view = url === '/' ? member.json().data.notion : member.json().data;
      expect(view.notion.webhookUrl).toBeNull();
    }
  });

  it('a pending token records when and from where it came; a later one does not replace it', async () => {
    const verification = (await call('GET', '/notion/verification')).json().data;
    const query = new URL(verification.webhookUrl).search;
    await call('DELETE', '/notion/verification/pending');
    const first = await t.app.inject({
      method: 'POST',
      url: `/webhooks/notion${query}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ verification_token: 'secret_first' }),
      remoteAddress: '203.0.113.7',
    });
    expect(first.statusCode).toBe(200);
    const second = await t.app.inject({
      method: 'POST',
      url: `/webhooks/notion${query}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ verification_token: 'secret_second' }),
      remoteAddress: '198.51.100.9',
    });
    expect(second.statusCode).toBe(409);
    const pending = (await call('GET', '/notion/verification')).json().data;
    expect(pending).toMatchObject({ pendingToken: 'secret_first', pendingFrom: '203.0.113.7' });
    expect(typeof pending.pendingReceivedAt).toBe('number');
    // Discarding it lets the next handshake through.
    expect((await call('DELETE', '/notion/verification/pending')).statusCode).toBe(200);
    const third = await t.app.inject({
      method: 'POST',
      url: `/webhooks/notion${query}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ verification_token: 'secret_third' }),
      remoteAddress: '198.51.100.9',
    });
    expect(third.statusCode).toBe(200);
    const confirmed = await call('POST', '/notion/verification/confirm', {
      verificationToken: 'secret_third',
    });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json().data.notion).toMatchObject({
      verified: true,
      handshakeFrom: '198.51.100.9',
    });
    expect(typeof confirmed.json().data.notion.handshakeReceivedAt).toBe('number');
    verificationToken = 'secret_third';
  });

  it('refuses events older than the documented window, and dedupes on the event id', async () => {
    const query = new URL((await call('GET', '/notion/verification')).json().data.webhookUrl)
      .search;
    const before = (await notionRows()).length;
    const old = JSON.stringify(event({ timestamp: '2020-01-01T00:00:00.000Z' }));
    const refused = await post(old, query, signNotionBody(old, verificationToken));
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toMatch(/older/);
    const fresh = event();
    const body = JSON.stringify(fresh);
    expect((await post(body, query, signNotionBody(body, verificationToken))).json()).toEqual({
      received: true,
      duplicate: false,
    });
    // Notion's retry of the same event (another attempt number) is the same event.
    const retry = JSON.stringify({ ...fresh, attempt_number: 2 });
    expect((await post(retry, query, signNotionBody(retry, verificationToken))).json()).toEqual({
      received: true,
      duplicate: true,
    });
    expect((await notionRows()).length).toBe(before + 1);
  });

  it('gives the automation engine a Notion client for the connection', async () => {
    const status = (await call('GET', '/notion')).json().data;
    const pageId = randomUUID();
    notion.pages.set(pageId, { object: 'page', id: pageId, properties: {} });
    const client = await t.app.providers.notion.connect.clientFor(status.id);
    const page = await client!.pages.retrieve({ page_id: pageId });
    expect(page.id).toBe(pageId);
    const request = notion.requests.at(-1)!;
    expect(request.path).toBe(`/v1/pages/${pageId}`);
    expect(request.headers['notion-version']).toBe('2025-09-03');
    expect(request.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('connects a personal workspace through Notion OAuth (state checked, Basic client auth)', async () => {
    const start = await call('POST', '/notion/oauth/authorize', undefined, 'personal');
    expect(start.statusCode).toBe(200);
    const { authorizeUrl, state } = start.json().data;
    const url = new URL(authorizeUrl);
    expect(url.origin + url.pathname).toBe(`${notion.url}/v1/oauth/authorize`);
    expect(url.searchParams.get('owner')).toBe('user');
    notion.oauthCodes.set('n-code', 'ntn_oauth_token');
    const wrong = await call(
      'POST',
      '/notion/oauth/callback',
      { code: 'n-code', state: 'nope' },
      'personal',
    );
    expect(wrong.statusCode).toBe(400);
    expect(notion.requests.filter((r) => r.path === '/v1/oauth/token')).toHaveLength(0);
    const res = await call('POST', '/notion/oauth/callback', { code: 'n-code', state }, 'personal');
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ authType: 'oauth', workspaceId: notion.workspace.id });
    const exchange = notion.requests.find((r) => r.path === '/v1/oauth/token')!;
    expect(exchange.headers.authorization).toBe(
      `Basic ${Buffer.from('notion_client:notion_client_secret').toString('base64')}`,
    );
    expect(exchange.body).toMatchObject({ grant_type: 'authorization_code', code: 'n-code' });
    // The organisation's connection is unaffected by the personal one.
    expect((await call('GET', '/notion')).json().data.authType).toBe('internal_token');
    expect((await call('DELETE', '/notion', undefined, 'personal')).statusCode).toBe(200);
  });

  it('disconnect removes the connection; its events are then refused', async () => {
    expect((await call('DELETE', '/notion')).statusCode).toBe(200);
    expect((await call('GET', '/notion')).statusCode).toBe(404);
    const body = JSON.stringify(event());
    expect((await post(body, '', signNotionBody(body, 'secret_any'))).statusCode).toBe(401);
  });
});
