import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/database.ts';
import { integrationConnections } from '../../src/db/schema.ts';
import {
  BudgetExhausted,
  lifecycleFailure,
} from '../../src/modules/integrations/connection-errors.ts';
import { SECRET_CONTEXT } from '../../src/modules/integrations/secret-contexts.ts';
import {
  createBudgetStore,
  PostgresBudgetStore,
} from '../../src/modules/providers/budget/provider-budget.ts';
import { createLinearCallPath } from '../../src/modules/providers/linear/linear-call-path.ts';
import { testConfig } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { type FakeNotion, startFakeNotion } from '../helpers/fakes/notion-fake.ts';
import { createUser } from '../integrations/fixtures.ts';
import {
  insertLinearOAuthConnection,
  linearOAuthEnv,
  manualClock,
  silentLog,
  TEST_ENCRYPTION_KEY,
  testBox,
} from './support.ts';

interface ChildResult {
  slots: number[];
  sent: number[];
  /** The call was refused (would wait longer than maxWaitMs) until this time. */
  refusedUntil: number | null;
}

/** A child process; with `waitForGo` it starts, says ready, and calls on `go()`. */
function startChild(input: Record<string, unknown>): {
  ready: Promise<void>;
  go(): void;
  result: Promise<ChildResult>;
} {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/providers/budget-child.ts',
      JSON.stringify({ ...input, encryptionKey: TEST_ENCRYPTION_KEY }),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on('data', (d) => {
    out += String(d);
    if (out.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (d) => {
    err += String(d);
  });
  const result = new Promise<ChildResult>((resolve, reject) => {
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child failed (${code}): ${err}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult);
    });
  });
  return { ready, go: () => child.stdin.end('go\n'), result };
}

const runChild = (input: Record<string, unknown>) => startChild(input).result;

async function insertNotionConnection(db: Db, token: string, workspaceId: string) {
  const user = await createUser(db);
  const [row] = await db
    .insert(integrationConnections)
    .values({
      provider: 'notion',
      userId: user.id,
      authType: 'internal_token',
      accessTokenEnc: testBox().seal(token, SECRET_CONTEXT.accessToken),
      externalWorkspaceId: workspaceId,
    })
    .returning();
  return row?.id ?? '';
}

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

describe('provider budgets shared across processes', () => {
  let db: TestDatabase;
  let notion: FakeNotion;
  let linear: FakeLinear;

  beforeAll(async () => {
    db = await createTestDatabase();
    if (!db.url) throw new Error('these tests need Postgres (DATABASE_URL)');
    notion = await startFakeNotion({ tokens: ['ntn_paced'] });
    linear = await startFakeLinear({ tokenLifetimeSeconds: 86_400 });
  });
  afterAll(async () => {
    await notion.close();
    await linear.close();
    await db.destroy();
  });

  it('the store hands out one slot at a time (Postgres)', async () => {
    const store = new PostgresBudgetStore(db.database.db);
    const key = `test:${randomUUID()}`;
    const now = Date.now();
    const slots = await Promise.all(Array.from({ length: 9 }, () => store.reserve(key, 100, now)));
    expect(slots.sort((a, b) => a - b)).toEqual(Array.from({ length: 9 }, (_, i) => now + i * 100));
    // A block moves the next slot; an earlier block never moves it back.
    await store.blockUntil(key, now + 5_000);
    await store.blockUntil(key, now + 1_000);
    expect(await store.reserve(key, 0, now)).toBe(now + 5_000);
  });

  for (const backend of ['postgres', 'redis'] as const) {
    it(`Notion: two processes together stay within 3 requests/second per connection (${backend})`, async () => {
      const pageId = randomUUID();
      notion.pages.set(pageId, { object: 'page', id: pageId, properties: {} });
      const connectionId = await insertNotionConnection(
        db.database.db,
        'ntn_paced',
        notion.workspace.id,
      );
      const before = notion.requests.length;
      const env = {
        ...notion.env(),
        DATABASE_URL: db.url ?? '',
        NOTION_REQUESTS_PER_SECOND: '3',
        ...(backend === 'redis'
          ? { REDIS_URL: redisUrl, TEST_REDIS_PREFIX: `monoid:test:budget:${randomUUID()}:` }
          : {}),
      };
      const input = {
        databaseUrl: db.url,
        env,
        connectionId,
        provider: 'notion',
        calls: 5,
        maxWaitMs: 60_000,
        pageId,
      };
      const [a, b] = await Promise.all([runChild(input), runChild(input)]);
      const slots = [...(a?.slots ?? []), ...(b?.slots ?? [])].sort((x, y) => x - y);
      expect(slots).toHaveLength(10);
      // The slots both processes were given are at least 1/3 s apart (ms rounding aside):
      // never more than 3 request starts in any second, across the two processes.
      for (let i = 1; i < slots.length; i++)
        expect((slots[i] ?? 0) - (slots[i - 1] ?? 0)).toBeGreaterThanOrEqual(333);
      // And every request reached Notion no earlier than a slot allowed it.
      const arrivals = notion.requests
        .slice(before)
        .map((r) => r.at)
        .sort((x, y) => x - y);
      expect(arrivals).toHaveLength(10);
      arrivals.forEach((at, i) => {
        expect(at).toBeGreaterThanOrEqual((slots[i] ?? 0) - 1);
      });
    });
  }

  it('Linear: after RATELIMITED, the next call of another process waits for the reset', async () => {
    // Every process runs on a simulated clock standing at `start` (sleeping moves it), so
    // "before the reset" does not depend on how fast a busy machine runs the processes: the
    // reset is a minute away for all of them until one of them waits for it.
    const start = Date.now();
    const clock = manualClock(start);
    const connectionId = await insertLinearOAuthConnection(
      db.database.db,
      testBox(),
      linear,
      clock,
    );
    const config = testConfig({ ...linearOAuthEnv(linear), PROVIDER_RATE_LIMIT_JITTER_MS: '0' });
    const path = createLinearCallPath({
      db: db.database.db,
      box: testBox(),
      config,
      log: silentLog,
      clock,
      budget: createBudgetStore({ db: db.database.db, redisUrl: undefined, log: silentLog }),
    });
    const childInput = {
      databaseUrl: db.url,
      env: {
        ...linearOAuthEnv(linear),
        DATABASE_URL: db.url ?? '',
        PROVIDER_RATE_LIMIT_JITTER_MS: '0',
      },
      connectionId,
      provider: 'linear',
      calls: 1,
      waitForGo: true,
      clockStart: start,
    };
    // Two other processes, started before the limit is hit.
    const impatient = startChild({ ...childInput, maxWaitMs: 0 });
    const patient = startChild({ ...childInput, maxWaitMs: 120_000 });
    await Promise.all([impatient.ready, patient.ready]);
    const resetAt = start + 60_000;
    linear.rateLimitNext(1, {
      'x-ratelimit-requests-limit': '5000',
      'x-ratelimit-requests-remaining': '0',
      'x-ratelimit-requests-reset': String(resetAt),
    });
    const client = await path.client(connectionId, { maxWaitMs: 0 });
    // This process may not wait (an interactive call): it is told when to come back.
    const refused = lifecycleFailure(await client.teams().catch((err: unknown) => err));
    expect(refused).toBeInstanceOf(BudgetExhausted);
    expect((refused as BudgetExhausted).retryAt).toBe(resetAt);
    expect(clock.slept).toEqual([]);
    const callsBefore = linear.calls.length;
    // Another process that may not wait is refused with the same reset, calling nothing...
    impatient.go();
    expect((await impatient.result).refusedUntil).toBe(resetAt);
    expect(linear.calls.length).toBe(callsBefore);
    // ...and one that may, waits: its call is made only once its clock reached the reset.
    patient.go();
    const waited = await patient.result;
    expect(waited.slots[0]).toBe(resetAt);
    expect(waited.sent[0]).toBeGreaterThanOrEqual(resetAt);
    expect(waited.refusedUntil).toBeNull();
    expect(linear.calls.length).toBe(callsBefore + 1);
  });

  it('Linear: remaining near zero in the headers blocks the next call until the reset', async () => {
    const clock = manualClock(Date.now());
    const connectionId = await insertLinearOAuthConnection(
      db.database.db,
      testBox(),
      linear,
      clock,
    );
    const path = createLinearCallPath({
      db: db.database.db,
      box: testBox(),
      config: testConfig({ ...linearOAuthEnv(linear), PROVIDER_RATE_LIMIT_JITTER_MS: '0' }),
      log: silentLog,
      clock,
      budget: new PostgresBudgetStore(db.database.db),
    });
    const resetSeconds = Math.floor(clock.now() / 1000) + 600; // sent in seconds
    Object.assign(linear.responseHeaders, {
      'x-ratelimit-complexity-remaining': '500',
      'x-ratelimit-complexity-reset': String(resetSeconds),
      'x-complexity': '250',
    });
    try {
      const client = await path.client(connectionId, { maxWaitMs: 3_600_000 });
      await client.teams();
      const slept = clock.slept.length;
      await client.teams();
      // The second call waited (simulated) until the complexity reset.
      expect(clock.slept.length).toBe(slept + 1);
      expect(clock.now()).toBeGreaterThanOrEqual(resetSeconds * 1000);
    } finally {
      for (const name of Object.keys(linear.responseHeaders)) delete linear.responseHeaders[name];
    }
  });
});
