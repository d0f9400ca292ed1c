/**
 * A separate worker process (no app: the worker, the engine and a small pool).
 * `hang` (the "killed mid-batch" test): it claims a batch, applies it inside its transaction,
 * tells the parent, and then hangs until it is SIGKILLed (its transaction never commits; its
 * lease runs out). `drain` (the "two processes on one inbox" test): it drains the inbox with
 * small batches and exits.
 */
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { publicApiItemStore } from '../../src/modules/automations/automation.item-store.ts';
import { automationHandler } from '../../src/modules/automations/automation.processor.ts';
import { EventSources } from '../../src/modules/automations/automation.sources.ts';
import { InboxWorker } from '../../src/modules/inbox/inbox.worker.ts';
import { createLinearEventSource } from '../../src/modules/providers/linear/linear-source.ts';

const [url, mode = 'hang', batch = '10'] = process.argv.slice(2);
if (!url) throw new Error('usage: worker-child <database url> [hang|drain] [batch size]');
const database = await openDatabase({ url, poolSize: 2 });
const log = pino({ level: 'silent' });
const handler = automationHandler({
  db: database.db,
  store: publicApiItemStore,
  sources: new EventSources([createLinearEventSource({ db: database.db })]),
  ownActorIds: [],
  log,
});
const worker = new InboxWorker(
  database,
  mode === 'hang'
    ? {
        ...handler,
        async applyBatch(tx, prepared, processed) {
          await handler.applyBatch(tx, prepared, processed);
          process.stdout.write(`applied ${prepared.length}\n`);
          await new Promise(() => {}); // hang: the parent kills us here
        },
      }
    : handler,
  {
    log,
    batchSize: Number(batch),
    concurrency: 1,
    leaseMs: 1_000,
    pollMs: 50,
    maxAttempts: 5,
    retryBaseMs: 1,
    retryMaxMs: 1,
  },
);
process.stdout.write('ready\n');
if (mode === 'hang') await worker.runOnce();
else {
  const n = await worker.drain();
  process.stdout.write(`drained ${n}\n`);
  await database.close();
  process.exit(0);
}
