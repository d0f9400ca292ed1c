/**
 * A separate process calling a provider through the app's call path, for the "across
 * processes" budget tests. Argument: JSON { databaseUrl, env, connectionId, provider, calls,
 * maxWaitMs, pageId? }. Prints one JSON line: the budget slots it was given and when it
 * started each call.
 */
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/database.ts';
import { SecretBox } from '../../src/modules/integrations/secret-box.ts';
import { systemClock } from '../../src/modules/providers/budget/clock.ts';
import {
  BudgetExhausted,
  type BudgetStore,
  createBudgetStore,
} from '../../src/modules/providers/budget/provider-budget.ts';
import { createLinearCallPath } from '../../src/modules/providers/linear/linear-call-path.ts';
import { createNotionCallPath } from '../../src/modules/providers/notion/notion-call-path.ts';
import { lifecycleFailure } from '../../src/modules/providers/tokens/token-refresher.ts';

const input = JSON.parse(process.argv[2] ?? '{}') as {
  databaseUrl: string;
  env: Record<string, string>;
  connectionId: string;
  provider: 'linear' | 'notion';
  calls: number;
  maxWaitMs: number;
  pageId?: string;
  encryptionKey: string;
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
const deps = { db: database.db, box, config, log, clock: systemClock, budget: recording };
const sent: number[] = [];
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
      sent.push(Date.now());
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
