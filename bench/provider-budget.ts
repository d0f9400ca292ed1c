/**
 * Provider call path benchmark (not a test). Run:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/provider-budget.ts
 * (a fresh database on that server, dropped afterwards; REDIS_URL defaults to the local Redis).
 *
 * What the call path costs per Linear call, against a loopback fake Linear (so the provider's
 * own latency, ~100 ms in production, is absent and the overhead is as visible as it gets):
 *   1. baseline: a bare `LinearClient` (the SDK, no token lookup, no budget);
 *   2. the call path with the budget in Postgres (`provider_budgets`, one upsert per call);
 *   3. the call path with the budget in Redis (one Lua script per call).
 * Sequential calls (`teams`), median of BENCH_ROUNDS rounds; ratios against the baseline of
 * the same run. Prints the load average next to each figure: the machine is shared.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { integrationConnections } from '../src/db/schema.ts';
import { SECRET_CONTEXT } from '../src/modules/integrations/secret-contexts.ts';
import { systemClock } from '../src/modules/providers/budget/clock.ts';
import { createBudgetStore } from '../src/modules/providers/budget/provider-budget.ts';
import { createLinearClient } from '../src/modules/providers/linear/linear-api.ts';
import { createLinearCallPath } from '../src/modules/providers/linear/linear-call-path.ts';
import { createTestDatabase } from '../test/helpers/database.ts';
import { startFakeLinear } from '../test/helpers/fakes/linear-fake.ts';
import { createUser } from '../test/integrations/fixtures.ts';
import { testBox } from '../test/providers/support.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

const KEY = 'lin_api_bench_budget';
const linear = await startFakeLinear({ tokens: [KEY] });
const db = await createTestDatabase();
const log = pino({ level: 'silent' });
const box = testBox();
const user = await createUser(db.database.db);
const [connection] = await db.database.db
  .insert(integrationConnections)
  .values({
    provider: 'linear',
    userId: user.id,
    authType: 'api_key',
    accessTokenEnc: box.seal(KEY, SECRET_CONTEXT.accessToken),
  })
  .returning();
const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: 'memory', ...linear.env() });

async function perCall(run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await run(); // warm-up
  const started = performance.now();
  for (let i = 0; i < CALLS; i++) await run();
  return ((performance.now() - started) / CALLS) * 1000; // µs
}

const bare = createLinearClient(config.LINEAR_API_URL, { authType: 'api_key', token: KEY });
const postgresStore = createBudgetStore({ db: db.database.db, redisUrl: undefined, log });
const redisStore = createBudgetStore({
  db: db.database.db,
  redisUrl,
  redisPrefix: `monoid:bench:${process.pid}:`,
  log,
});
const viaPostgres = await createLinearCallPath({
  db: db.database.db,
  box,
  config,
  log,
  clock: systemClock,
  budget: postgresStore,
}).client(connection?.id ?? '', { maxWaitMs: 0 });
const viaRedis = await createLinearCallPath({
  db: db.database.db,
  box,
  config,
  log,
  clock: systemClock,
  budget: redisStore,
}).client(connection?.id ?? '', { maxWaitMs: 0 });

const results: Record<string, number[]> = { bare: [], postgres: [], redis: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.bare?.push(await perCall(() => bare.teams()));
  results.postgres?.push(await perCall(() => viaPostgres.teams()));
  results.redis?.push(await perCall(() => viaRedis.teams()));
  console.log(`round ${round + 1}/${ROUNDS} done (load ${load()})`);
}
const base = median(results.bare ?? []);
console.log(`\n${CALLS} sequential Linear calls per round, ${ROUNDS} rounds, medians:`);
for (const [name, values] of Object.entries(results)) {
  const m = median(values);
  console.log(
    `${name.padEnd(9)} ${m.toFixed(0).padStart(6)} µs/call  ${(m / base).toFixed(2)}× baseline  (+${(m - base).toFixed(0)} µs)`,
  );
}
console.log(`load average at the end: ${load()}`);
await postgresStore.close();
await redisStore.close();
await linear.close();
await db.destroy();
