import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { testPostgresUrl } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { createUser, linearHeaders, linearIssuePayload } from './fixtures.ts';

const API_KEY = 'lin_api_durability';

/**
 * "Nothing is acknowledged that is not stored": the database connection is killed while
 * deliveries are being inserted; every 200 must correspond to a committed row.
 */
describe('inbox durability', () => {
  let t: TestApp;
  let linear: FakeLinear;
  let webhookId: string;
  let secret: string;
  let teamId: string;

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [API_KEY] });
    t = await buildTestApp({
      env: { ...linear.env(), PUBLIC_BASE_URL: 'https://monoid.example' },
      overrides: { skipReconciler: true },
    });
    const user = await createUser(t.app.database.db);
    const workspace = { organisationId: null, userId: user.id };
    const connection = await t.app.providers.linear.connect.connectApiKey({
      workspace,
      userId: user.id,
      apiKey: API_KEY,
    });
    teamId = linear.teams[0]!.id;
    await t.app.providers.linear.registrations.ensure({
      connectionId: connection.id,
      teamId,
      reason: 'automation:durability',
    });
    const hook = [...linear.webhooks.values()][0]!;
    webhookId = hook.id;
    secret = hook.secret!;
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  // A retry resends the same event (Linear refreshes only webhookTimestamp).
  const events = new Map<string, ReturnType<typeof linearIssuePayload>>();
  const send = (deliveryId: string) => {
    const event = events.get(deliveryId) ?? linearIssuePayload({ webhookId, teamId });
    events.set(deliveryId, event);
    const body = JSON.stringify({ ...event, webhookTimestamp: Date.now() });
    return t.app.inject({
      method: 'POST',
      url: '/webhooks/linear',
      headers: linearHeaders(body, secret, deliveryId),
      payload: body,
    });
  };

  async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const storedIds = () =>
    withAdmin(async (c) => {
      const r = await c.query<{ delivery_id: string }>('select delivery_id from inbox_events');
      return new Set(r.rows.map((row) => row.delivery_id));
    });
  const dbName = () => new URL(t.db.url ?? 'postgres://x/none').pathname.slice(1);

  it.skipIf(!testPostgresUrl())(
    'a connection killed after the insert but before the commit and reply: 503, no row; a retry stores it once',
    async () => {
      // The trigger holds the inserting statement open (row inserted, not committed).
      await withAdmin(async (c) => {
        await c.query(`create function inbox_hold() returns trigger language plpgsql as $$
          begin perform pg_sleep(2); return new; end $$`);
        await c.query(
          'create trigger inbox_hold after insert on inbox_events for each row execute function inbox_hold()',
        );
      });
      const deliveryId = randomUUID();
      const pending = send(deliveryId);
      await withAdmin(async (c) => {
        for (let i = 0; i < 50; i++) {
          const r = await c.query(
            `select pg_terminate_backend(pid) as killed from pg_stat_activity
             where datname = $1 and pid <> pg_backend_pid() and query like '%insert into inbox_events%'`,
            [dbName()],
          );
          if (r.rowCount && r.rowCount > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error('the insert was never seen in flight');
      });
      const res = await pending;
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect((await storedIds()).has(deliveryId)).toBe(false);

      await withAdmin(async (c) => {
        await c.query('drop trigger inbox_hold on inbox_events');
        await c.query('drop function inbox_hold()');
      });
      // Linear retries the same delivery; it lands once.
      expect((await send(deliveryId)).statusCode).toBe(200);
      expect((await send(deliveryId)).json()).toEqual({ received: true, duplicate: true });
      expect((await storedIds()).has(deliveryId)).toBe(true);
    },
  );

  it.skipIf(!testPostgresUrl())(
    'under a burst with connections killed repeatedly, every 200 has its row',
    async () => {
      const ids = Array.from({ length: 80 }, () => randomUUID());
      const killer = withAdmin(async (c) => {
        for (let i = 0; i < 6; i++) {
          await new Promise((resolve) => setTimeout(resolve, 15));
          await c.query(
            'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [dbName()],
          );
        }
      });
      const responses = await Promise.all(ids.map((id) => send(id)));
      await killer;
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      const stored = await storedIds();
      const acknowledged = ids.filter((_, i) => statuses[i] === 200);
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const id of acknowledged) expect(stored.has(id)).toBe(true);
    },
  );

  it('a closed database acknowledges nothing', async () => {
    const deliveryId = randomUUID();
    // Fill the secret cache first so that the failure is the insert itself.
    expect((await send(randomUUID())).statusCode).toBe(200);
    await t.app.database.close();
    const res = await send(deliveryId);
    // 503 on the embedded engine; node-postgres' "pool ended" error renders as a 500. Either
    // way the provider sees a failure and retries.
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
    expect(res.json()).toMatchObject({ error: true });
  });
});
