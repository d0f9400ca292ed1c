/**
 * A separate push-worker process for the "killed mid-push" test: the two-way pusher against
 * the test database and the fake Linear. It runs until the outbox has nothing pending (or is
 * SIGKILLed by the parent while the fake holds its `issueUpdate`), then exits.
 */
import { sql } from 'drizzle-orm';
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { publicApiItemStore } from '../../src/modules/automations/automation.item-store.ts';
import { createLinearClient } from '../../src/modules/providers/linear/linear-api.ts';
import { LinearPushRunner } from '../../src/modules/providers/linear/linear-push.ts';

const [url, apiUrl, apiKey] = process.argv.slice(2);
if (!url || !apiUrl || !apiKey) throw new Error('usage: push-child <database url> <api url> <key>');
const database = await openDatabase({ url, poolSize: 2 });
const client = createLinearClient(apiUrl, { authType: 'api_key', token: apiKey });
const runner = new LinearPushRunner({
  db: database.db,
  store: publicApiItemStore,
  linearClient: async () => client,
  log: pino({ level: 'silent' }),
  batchSize: 10,
  leaseMs: 1_000,
  pollMs: 50,
  maxAttempts: 5,
  retryBaseMs: 1,
  retryMaxMs: 1,
});
const pending = async () => {
  const res = (await database.db.execute(
    sql`select count(*)::int as n from linear_sync_outbox where state = 'pending'`,
  )) as unknown as { rows: Array<{ n: number }> };
  return res.rows[0]?.n ?? 0;
};
process.stdout.write('ready\n');
const until = Date.now() + 20_000;
while ((await pending()) > 0 && Date.now() < until) {
  if (!(await runner.runOnce())) await new Promise((r) => setTimeout(r, 50));
}
await database.close();
process.exit(0);
