/**
 * A separate worker process for the "killed mid-event" test: it claims the event, creates
 * the task inside its transaction, tells the parent, and then hangs until it is SIGKILLed
 * (its transaction never commits; its lease runs out).
 */
import pino from 'pino';
import { openDatabase } from '../../src/db/database.ts';
import { publicApiItemStore } from '../../src/modules/automations/automation.item-store.ts';
import { automationHandler } from '../../src/modules/automations/automation.processor.ts';
import { EventSources } from '../../src/modules/automations/automation.sources.ts';
import { InboxWorker } from '../../src/modules/inbox/inbox.worker.ts';
import { createLinearEventSource } from '../../src/modules/providers/linear/linear-source.ts';

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
const log = pino({ level: 'silent' });
const worker = new InboxWorker(
  database,
  automationHandler({
    db: database.db,
    store,
    sources: new EventSources([createLinearEventSource({ db: database.db })]),
    ownActorIds: [],
    log,
  }),
  {
    log,
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
