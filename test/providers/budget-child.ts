/**
 * A separate process calling a provider through the app's call path, for the "across
 * processes" budget tests. Argument: JSON { databaseUrl, env, connectionId, provider, calls,
 * maxWaitMs, pageId?, waitForGo?, clockStart? }. Prints one JSON line: the budget slots it was
 * given and when (on its clock) it started each Linear call.
 */

import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import {
  BudgetExhausted,
  lifecycleFailure,
} from '../../src/modules/integrations/connection-errors.ts';
import { SecretBox } from '../../src/modules/integrations/secret-box.ts';
import { type Clock, systemClock } from '../../src/modules/providers/budget/clock.ts';
import {
  type BudgetStore,
  createBudgetStore,
} from '../../src/modules/providers/budget/provider-budget.ts';
import { createLinearCallPath } from '../../src/modules/providers/linear/linear-call-path.ts';
import { createNotionCallPath } from '../../src/modules/providers/notion/notion-call-path.ts';

const input = JSON.parse(process.argv[2] ?? '{}') as {
  databaseUrl: string;
  env: Record<string, string>;
  connectionId: string;
  provider: 'linear' | 'notion';
  calls: number;
  maxWaitMs: number;
  pageId?: string;
  encryptionKey: string;
  waitForGo?: boolean;
  /** Run on a simulated clock standing at this time (sleeping moves it), not real time. */
  clockStart?: number;
};
const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: 'memory', ...input.env });
const database = await openDatabase({ url: input.databaseUrl, poolSize: 2 });
const log = pino({ level: 'silent' });
const box = new SecretBox(Buffer.from(input.encryptionKey, 'base64'));
const store = createBudgetStore({
  db: database.db,
  redisUrl: config.REDIS_URL,
  redisPrefix: input.env.TEST_REDIS_PREFIX,
  log,
});
function simulatedClock(start: number): Clock {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += Math.max(0, ms);
    },
  };
}
const slots: number[] = [];
// Records the slots the shared store hands out (the store itself is the real one).
const recording: BudgetStore = {
  reserve: async (key, spacing, now) => {
    const at = await store.reserve(key, spacing, now);
    slots.push(at);
    return at;
  },
  blockUntil: (key, until) => store.blockUntil(key, until),
  close: () => store.close(),
};
const clock = input.clockStart === undefined ? systemClock : simulatedClock(input.clockStart);
const deps = { db: database.db, box, config, log, clock, budget: recording };
const sent: number[] = [];
// Started ahead of time: wait for the parent's "go" line before calling.
if (input.waitForGo) {
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
}
let refusedUntil: number | null = null;
try {
  if (input.provider === 'notion') {
    const client = await createNotionCallPath(deps).client(input.connectionId, {
      maxWaitMs: input.maxWaitMs,
    });
    for (let i = 0; i < input.calls; i++)
      await client.pages.retrieve({ page_id: input.pageId ?? '' });
  } else {
    const client = await createLinearCallPath(deps).client(input.connectionId, {
      maxWaitMs: input.maxWaitMs,
    });
    for (let i = 0; i < input.calls; i++) {
      await client.teams();
      sent.push(clock.now());
    }
  }
} catch (err) {
  const failure = lifecycleFailure(err);
  if (!(failure instanceof BudgetExhausted)) throw err;
  refusedUntil = failure.retryAt;
}
process.stdout.write(`${JSON.stringify({ slots, sent, refusedUntil })}\n`);
await store.close();
await database.close();
