/**
 * A separate worker process for the "killed mid-event" test: it claims the event, creates
 * the task inside its transaction, tells the parent, and then hangs until it is SIGKILLed
 * (its transaction never commits; its lease runs out).
 */
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { publicApiItemStore } from '../../src/modules/automations/automation.item-store.ts';
import { AutomationWorker } from '../../src/modules/automations/automation.worker.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: worker-child <database url>');
const database = await openDatabase({ url, poolSize: 2 });
const store = {
  ...publicApiItemStore,
  createTask: async (...args: Parameters<typeof publicApiItemStore.createTask>) => {
    const id = await publicApiItemStore.createTask(...args);
    process.stdout.write(`created ${id}\n`);
    await new Promise(() => {}); // hang: the parent kills us here
    return id;
  },
};
const worker = new AutomationWorker(
  database,
  { db: database.db, store, notion: null, ownActorIds: [], log: pino({ level: 'silent' }) },
  {
    batchSize: 1,
    concurrency: 1,
    leaseMs: 1_000,
    pollMs: 50,
    maxAttempts: 5,
    retryBaseMs: 1,
    retryMaxMs: 1,
  },
);
process.stdout.write('ready\n');
await worker.runOnce();
