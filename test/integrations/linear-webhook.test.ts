import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents, integrationConnections } from '../../src/db/schema.ts';
import { InboxGroupCommit } from '../../src/modules/inbox/inbox-group-commit.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { countQueries } from '../helpers/query-count.ts';
import { createContainer, createUser, linearHeaders, linearIssuePayload } from './fixtures.ts';

const API_KEY = 'lin_api_secret_personal_key_123';

describe('POST /webhooks/linear', () => {
  let t: TestApp;
  let linear: FakeLinear;
  let connectionId: string;
  let webhookId: string;
  let secret: string;
  let teamId: string;
  let containerId: string;

  const rows = () =>
    t.app.database.db.select().from(inboxEvents).where(eq(inboxEvents.provider, 'linear'));

  const deliver = (body: string, headers: Record<string, string>) =>
    t.app.inject({ method: 'POST', url: '/webhooks/linear', headers, payload: body });

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [API_KEY] });
    t = await buildTestApp({
      env: { ...linear.env(), PUBLIC_BASE_URL: 'https://monoid.example' },
      overrides: { skipReconciler: true },
    });
    const user = await createUser(t.app.database.db);
    const workspace = { organisationId: null, userId: user.id };
    containerId = await createContainer(t.app.database.db, { userId: user.id });
    const connection = await t.app.providers.linear.connect.connectApiKey({
      workspace,
      userId: user.id,
      apiKey: API_KEY,
    });
    connectionId = connection.id;
    teamId = linear.teams[0]!.id;
    await t.app.providers.linear.connect.linkContainer({
      workspace,
      userId: user.id,
      containerId,
      teamId,
    });
    const hooks = [...linear.webhooks.values()];
    expect(hooks).toHaveLength(1);
    webhookId = hooks[0]!.id;
    secret = hooks[0]!.secret!;
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  it('registered exactly one webhook at the fake, with our URL, team and a generated secret', () => {
    const [hook] = [...linear.webhooks.values()];
    expect(hook).toMatchObject({
      url: 'https://monoid.example/webhooks/linear',
      teamId,
      label: 'MONOid',
      enabled: true,
    });
    expect(hook!.resourceTypes).toEqual(expect.arrayContaining(['Issue', 'Project', 'Comment']));
    expect(hook!.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(linear.callsOf('createWebhook')).toHaveLength(1);
  });

  it('stores a verified delivery once, however often it is sent', async () => {
    const payload = linearIssuePayload({ webhookId, teamId });
    const body = JSON.stringify(payload);
    const headers = linearHeaders(body, secret);
    const first = await deliver(body, headers);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ received: true, duplicate: false });
    for (let i = 0; i < 3; i++) {
      const again = await deliver(body, headers);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ received: true, duplicate: true });
    }
    const stored = (await rows()).filter((r) => r.deliveryId === headers['linear-delivery']);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      connectionId,
      eventType: 'Issue.create',
      entityType: 'Issue',
      entityId: payload.data.id,
      teamId,
      state: 'pending',
      attempts: 0,
      payload,
    });
    expect(stored[0]!.occurredAt?.toISOString()).toBe(payload.createdAt);
  });

  it('a captured signed body replayed under a new Linear-Delivery header is a duplicate', async () => {
    const payload = linearIssuePayload({ webhookId, teamId });
    const body = JSON.stringify(payload);
    const first = await deliver(body, linearHeaders(body, secret));
    expect(first.json()).toEqual({ received: true, duplicate: false });
    // The header is not signed: an attacker can change it, the body they cannot.
    const replay = await deliver(body, linearHeaders(body, secret, randomUUID()));
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ received: true, duplicate: true });
    expect((await rows()).filter((r) => r.entityId === payload.data.id)).toHaveLength(1);
  });

  it('a Linear retry (same event, fresh webhookTimestamp, same Linear-Delivery) is a duplicate', async () => {
    const payload = linearIssuePayload({ webhookId, teamId });
    const deliveryId = randomUUID();
    const body = JSON.stringify(payload);
    expect((await deliver(body, linearHeaders(body, secret, deliveryId))).json().duplicate).toBe(
      false,
    );
    const retried = JSON.stringify({ ...payload, webhookTimestamp: Date.now() + 1 });
    const again = await deliver(retried, linearHeaders(retried, secret, deliveryId));
    expect(again.json()).toEqual({ received: true, duplicate: true });
  });

  it('wakes the engine after commit: in-process listener and a coalesced NOTIFY', async () => {
    const seen: string[][] = [];
    const notified: string[] = [];
    const unsubscribe = t.app.inboxIntake.onInboxEvents((ids) => seen.push(ids));
    const unlisten = await t.app.database.listen('inbox_events', (p) => notified.push(p));
    try {
      const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
      const headers = linearHeaders(body, secret);
      expect((await deliver(body, headers)).statusCode).toBe(200);
      expect((await deliver(body, headers)).statusCode).toBe(200); // duplicate: no signal
      expect(seen).toHaveLength(1);
      const [row] = (await rows()).filter((r) => r.id === seen[0]![0]);
      expect(row?.deliveryId).toBe(headers['linear-delivery']);
      for (let i = 0; i < 100 && notified.length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(notified.length).toBeGreaterThan(0);
    } finally {
      unsubscribe();
      await unlisten();
    }
  });

  it('a burst of concurrent deliveries shares commits; each is stored once and answered exactly', async () => {
    const bodies = Array.from({ length: 120 }, () =>
      JSON.stringify(linearIssuePayload({ webhookId, teamId })),
    );
    // Every fourth delivery is also sent a second time within the same burst.
    const sends = [...bodies, ...bodies.filter((_, i) => i % 4 === 0)];
    const counter = countQueries(t.app.database);
    let answers: Array<{ body: string; status: number; duplicate: boolean }>;
    try {
      answers = await Promise.all(
        sends.map(async (body) => {
          const res = await deliver(body, linearHeaders(body, secret));
          return { body, status: res.statusCode, duplicate: res.json().duplicate as boolean };
        }),
      );
    } finally {
      counter.restore();
    }
    expect(answers.every((a) => a.status === 200)).toBe(true);
    for (const [i, body] of bodies.entries()) {
      const outcomes = answers.filter((a) => a.body === body).map((a) => a.duplicate);
      expect(outcomes.sort()).toEqual(i % 4 === 0 ? [false, true] : [false]);
    }
    const ids = new Set(bodies.map((b) => (JSON.parse(b) as { data: { id: string } }).data.id));
    const stored = (await rows()).filter((r) => r.entityId !== null && ids.has(r.entityId));
    expect(stored).toHaveLength(bodies.length);
    const inserts = counter.statements.filter((q) => q.includes('insert into inbox_events'));
    expect(inserts.length).toBeLessThan(sends.length / 2);
  });

  it('one bad row in a shared commit fails only its own delivery', async () => {
    const commits = new InboxGroupCommit(t.app.database.db, { maxInFlight: 1, maxEvents: 500 });
    const event = (connection = connectionId) => ({
      provider: 'linear' as const,
      deliveryId: randomUUID(),
      dedupeKey: randomUUID(),
      connectionId: connection,
      eventType: 'Issue.update',
      entityType: 'Issue',
      entityId: randomUUID(),
      teamId,
      occurredAt: new Date().toISOString(),
      payloadJson: '{}',
    });
    const existing = event();
    expect(await commits.insert([existing])).toHaveLength(1);
    const counter = countQueries(t.app.database);
    try {
      const good = Array.from({ length: 5 }, () => event());
      // The first takes the only slot; the rest gather behind it into one statement, which
      // the row of an unknown connection fails (foreign key).
      const results = await Promise.allSettled([
        commits.insert([event()]),
        ...good.map((e) => commits.insert([e])),
        commits.insert([event(randomUUID())]),
        commits.insert([{ ...existing, deliveryId: randomUUID() }]),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        ...Array(6).fill('fulfilled'),
        'rejected',
        'fulfilled',
      ]);
      const values = results.map((r) => (r.status === 'fulfilled' ? r.value.length : -1));
      expect(values).toEqual([1, 1, 1, 1, 1, 1, -1, 0]);
      // One alone, one shared statement that failed, then each of the 7 gathered alone. Only
      // inbox inserts are counted: the app's background jobs share the pool.
      const inserts = counter.statements.filter((q) => /insert into inbox_events/i.test(q));
      expect(inserts).toHaveLength(9);
    } finally {
      counter.restore();
    }
    const stored = await rows();
    expect(stored.filter((r) => r.dedupeKey === existing.dedupeKey)).toHaveLength(1);
  });

  it('keeps the exact bytes: a body with unusual spacing verifies and is stored', async () => {
    const payload = linearIssuePayload({ webhookId, teamId });
    const body = JSON.stringify(payload, null, 3).replace('"Issue"', '"Issue"   ');
    const res = await deliver(body, linearHeaders(body, secret));
    expect(res.statusCode).toBe(200);
  });

  it('stores a payload holding a NUL character (which jsonb refuses) without it', async () => {
    const payload = linearIssuePayload({ webhookId, teamId });
    payload.data.title = 'nul\u0000here';
    const body = JSON.stringify(payload);
    expect(body).toContain('\\u0000');
    const headers = linearHeaders(body, secret);
    const res = await deliver(body, headers);
    expect(res.statusCode).toBe(200);
    const [row] = (await rows()).filter((r) => r.deliveryId === headers['linear-delivery']);
    expect((row!.payload as { data: { title: string } }).data.title).toBe('nulhere');
  });

  const rejected: Array<[string, () => { body: string; headers: Record<string, string> }, number]> =
    [
      [
        'a tampered body',
        () => {
          const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
          const headers = linearHeaders(body, secret);
          return { body: body.replace('Fix the thing', 'Fix the thinG'), headers };
        },
        401,
      ],
      [
        'the wrong secret',
        () => {
          const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
          return { body, headers: linearHeaders(body, 'f'.repeat(64)) };
        },
        401,
      ],
      [
        'a stale timestamp (61 s old)',
        () => {
          const body = JSON.stringify(
            linearIssuePayload({ webhookId, teamId, at: Date.now() - 61_000 }),
          );
          return { body, headers: linearHeaders(body, secret) };
        },
        401,
      ],
      [
        'a future timestamp (61 s ahead)',
        () => {
          const body = JSON.stringify(
            linearIssuePayload({ webhookId, teamId, at: Date.now() + 61_000 }),
          );
          return { body, headers: linearHeaders(body, secret) };
        },
        401,
      ],
      [
        'no webhookTimestamp',
        () => {
          const { webhookTimestamp: _, ...rest } = linearIssuePayload({ webhookId, teamId });
          const body = JSON.stringify(rest);
          return { body, headers: linearHeaders(body, secret) };
        },
        401,
      ],
      [
        'no Linear-Signature header',
        () => {
          const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
          const { 'linear-signature': _, ...headers } = linearHeaders(body, secret);
          return { body, headers };
        },
        401,
      ],
      [
        'a signature of the wrong length',
        () => {
          const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
          return { body, headers: { ...linearHeaders(body, secret), 'linear-signature': 'abc' } };
        },
        401,
      ],
      [
        'an unknown webhookId',
        () => {
          const body = JSON.stringify(linearIssuePayload({ webhookId: randomUUID(), teamId }));
          return { body, headers: linearHeaders(body, secret) };
        },
        401,
      ],
      [
        'no Linear-Delivery header',
        () => {
          const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
          const { 'linear-delivery': _, ...headers } = linearHeaders(body, secret);
          return { body, headers };
        },
        400,
      ],
      [
        'a body that is not JSON',
        () => {
          const body = '{"webhookId": ';
          return { body, headers: linearHeaders(body, secret) };
        },
        400,
      ],
    ];

  it.each(rejected)('rejects %s and stores nothing', async (_name, make, status) => {
    const before = (await rows()).length;
    const { body, headers } = make();
    const res = await deliver(body, headers);
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      status,
      code: status === 401 ? 'UNAUTHORIZED' : 'BAD_REQUEST',
      error: true,
    });
    expect((await rows()).length).toBe(before);
  });

  it('answers 413 beyond the webhook body limit', async () => {
    const payload = { ...linearIssuePayload({ webhookId, teamId }), pad: 'x'.repeat(1_048_576) };
    const body = JSON.stringify(payload);
    const res = await deliver(body, linearHeaders(body, secret));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('never writes the secret, the signature or the API key to the logs', async () => {
    const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
    const headers = linearHeaders(body, secret);
    await deliver(body, headers);
    await deliver(body, { ...headers, 'linear-signature': '0'.repeat(64) });
    expect(t.logs.text).not.toContain(secret);
    expect(t.logs.text).not.toContain(headers['linear-signature']);
    expect(t.logs.text).not.toContain(API_KEY);
  });

  it('keeps tokens and webhook secrets unreadable in the database', async () => {
    const dump = await t.app.database.db.execute(
      sql`select row_to_json(c)::text as c from integration_connections c union all select row_to_json(w)::text from linear_webhook_registrations w`,
    );
    const text = JSON.stringify((dump as unknown as { rows: unknown[] }).rows);
    expect(text).toContain('access_token_enc');
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(secret);
    const [row] = await t.app.database.db
      .select()
      .from(integrationConnections)
      .where(eq(integrationConnections.id, connectionId));
    expect(row!.accessTokenEnc).toMatch(/^v1\./);
  });

  it('unlinking deletes the webhook at Linear; its deliveries are then refused', async () => {
    const user = await t.app.database.db.query.users.findFirst();
    await t.app.providers.linear.connect.unlinkContainer({
      workspace: { organisationId: null, userId: user!.id },
      containerId,
    });
    expect(linear.webhooks.size).toBe(0);
    expect(linear.callsOf('deleteWebhook').map((c) => c.variables.id)).toEqual([webhookId]);
    const body = JSON.stringify(linearIssuePayload({ webhookId, teamId }));
    const res = await deliver(body, linearHeaders(body, secret));
    expect(res.statusCode).toBe(401);
  });
});
