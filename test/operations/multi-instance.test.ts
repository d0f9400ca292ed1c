import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLinearBody } from '../../src/modules/providers/linear/linear-signature.ts';
import { linearIssuePayload } from '../automations/fixtures.ts';
import {
  type Harness,
  LINEAR_KEY,
  serverProcessEnv,
  startHarness,
} from '../automations/harness.ts';
import { createTestDatabase, type TestDatabase, testPostgresUrl } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

/**
 * Two real server processes on one Postgres (and one Redis when REDIS_URL is set), the way
 * several instances run behind a load balancer. They start at the same moment on an empty
 * database, so their migrations race; then they share keys, rate limits and the inbox.
 */
const redisUrl = process.env.REDIS_URL;

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

async function scalar(db: TestDatabase, query: ReturnType<typeof sql>): Promise<number> {
  const result = (await db.database.db.execute(query)) as unknown as { rows: Array<{ n: number }> };
  return Number(result.rows[0]?.n ?? 0);
}

describe.runIf(testPostgresUrl())('several instances on one database', () => {
  let db: TestDatabase;
  let linear: FakeLinear;
  let h: Harness;
  const servers: ServerProcess[] = [];

  function deliverTo(server: ServerProcess, payload: Record<string, unknown>, deliveryId: string) {
    const body = JSON.stringify({
      ...payload,
      webhookId: h.webhookId,
      webhookTimestamp: Date.now(),
    });
    return fetch(`${server.baseUrl}/webhooks/linear`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'linear-delivery': deliveryId,
        'linear-event': 'Issue',
        'linear-signature': signLinearBody(body, h.secret),
      },
      body,
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    linear = await startFakeLinear({ tokens: [LINEAR_KEY] });
    // Every instance must share the key that encrypts webhook secrets and tokens at rest.
    const encryptionKey = randomBytes(32).toString('base64');
    const env = serverProcessEnv(
      { db, linear, encryptionKey },
      {
        AUTOMATION_POLL_MS: '200',
        API_RATE_LIMIT_PER_MINUTE: '10',
        ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      },
    );
    // Both at once on an empty database: the migration lock makes them take turns.
    servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
    h = await startHarness({
      db,
      linear,
      env: { API_RATE_LIMIT_PER_MINUTE: '100000', ENCRYPTION_KEY: encryptionKey },
    });
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) s.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await h?.close();
    await db?.destroy();
  }, 60_000);

  it('migrated once although both started together', async () => {
    const journal = await import('../../migrations/meta/_journal.json', { with: { type: 'json' } });
    expect(await scalar(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`)).toBe(
      journal.default.entries.length,
    );
  });

  it('a key revoked through one instance is refused by the other on its next request', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const created = await fetch(`${a.baseUrl}/api/settings/api-keys`, {
      method: 'POST',
      headers: { ...h.session(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'two instances', scopes: ['read'] }),
    });
    expect(created.status).toBe(201);
    const { id, key } = ((await created.json()) as { data: { id: string; key: string } }).data;
    const me = (s: ServerProcess) =>
      fetch(`${s.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } });
    expect((await me(b)).status).toBe(200); // B now holds the key in its cache
    const revoked = await fetch(`${a.baseUrl}/api/settings/api-keys/${id}/revoke`, {
      method: 'POST',
      headers: { ...h.session(), 'content-type': 'application/json' },
      body: '{}',
    });
    expect(revoked.status).toBe(200);
    const started = Date.now();
    let status = 200;
    let code = '';
    while (Date.now() - started < 1_000) {
      const res = await me(b);
      status = res.status;
      code = ((await res.json()) as { code?: string }).code ?? '';
      if (status === 401) break;
      await sleep(50);
    }
    expect(status).toBe(401);
    expect(code).toBe('API_KEY_REVOKED');
  });

  it.runIf(redisUrl)('shares rate-limit counters between instances (Redis)', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const created = await fetch(`${a.baseUrl}/api/settings/api-keys`, {
      method: 'POST',
      headers: { ...h.session(), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rate limit', scopes: ['read'] }),
    });
    const { key } = ((await created.json()) as { data: { key: string } }).data;
    const statuses: number[] = [];
    for (const server of [a, b]) {
      for (let i = 0; i < 8; i++) {
        const res = await fetch(`${server.baseUrl}/api/v1/me`, {
          headers: { authorization: `Bearer ${key}` },
        });
        statuses.push(res.status);
        if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    }
    // 10 per minute in all: 16 requests over two instances leave 6 refused only if the
    // instances count together (each alone would allow all 8).
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(6);
  });

  it('processes every delivery exactly once, whichever instance received it', async () => {
    const [a, b] = servers as [ServerProcess, ServerProcess];
    const issues = Array.from({ length: 30 }, () => randomUUID());
    const acknowledged = await Promise.all(
      issues.flatMap((issueId, i) => {
        const payload = linearIssuePayload({ id: issueId, teamId: h.teamId, title: `Issue ${i}` });
        const deliveryId = randomUUID();
        // Each delivery reaches both instances (a provider retry landing elsewhere).
        return [deliverTo(a, payload, deliveryId), deliverTo(b, payload, deliveryId)];
      }),
    );
    expect(acknowledged.map((r) => r.status)).toEqual(acknowledged.map(() => 200));
    const deadline = Date.now() + 30_000;
    let tasks: Array<Record<string, unknown>> = [];
    while (Date.now() < deadline) {
      tasks = await h.tasks(`?containerId=${h.containerId}&limit=500`);
      if (tasks.length >= issues.length) break;
      await sleep(250);
    }
    await sleep(500); // a duplicate, if any, would appear now
    tasks = await h.tasks(`?containerId=${h.containerId}&limit=500`);
    const linked = tasks.flatMap((t) =>
      ((t.externalLinks as Array<{ externalId: string }>) ?? []).map((l) => l.externalId),
    );
    expect(tasks).toHaveLength(issues.length);
    expect(new Set(linked)).toEqual(new Set(issues));
    expect(
      await scalar(db, sql`select count(*)::int as n from inbox_events where provider = 'linear'`),
    ).toBe(issues.length);
    expect(
      await scalar(
        db,
        sql`select count(*)::int as n from inbox_events where provider = 'linear' and state <> 'processed'`,
      ),
    ).toBe(0);
  }, 60_000);
});
