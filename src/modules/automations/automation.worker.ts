import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../../db/database.ts';
import { INBOX_CHANNEL } from '../integrations/integrations.service.ts';
import type { InboxEventRow } from '../integrations/integrations.table.ts';
import { PermanentError, TransientError } from './automation.effects.ts';
import {
  type BatchCache,
  commitInboxEvent,
  type PreparedEvent,
  type ProcessorDeps,
  prepareInboxEvent,
} from './automation.processor.ts';
import {
  claimInboxEvents,
  deadLetterInbox,
  scheduleInboxRetry,
} from './automation-inbox.repository.ts';
import { recordRunFailure } from './automations.repository.ts';
import type { LinearBackfillRunner } from './linear-backfill.ts';

export interface WorkerOptions {
  batchSize: number;
  /** Events processed at once in this process. */
  concurrency: number;
  leaseMs: number;
  /** Safety-net polling interval; NOTIFY wakes the worker at once. */
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the exponential delay is fixed, half random,
 * so retries of many events failing together (a provider outage) spread out.
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * The in-process worker over the inbox. Several may run in several processes: claims use
 * `FOR UPDATE SKIP LOCKED` and a lease, so each event is worked on by one worker at a time,
 * and an event whose worker died is claimed again when its lease ends.
 */
export class AutomationWorker {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #backfillLoop: Promise<void> | undefined;
  #backfillTimer: NodeJS.Timeout | undefined;
  #backfillWake: (() => void) | undefined;
  /** Linear backfills of linked containers (run beside the inbox loop). */
  backfill: LinearBackfillRunner | null = null;

  constructor(
    private readonly database: Database,
    private readonly deps: ProcessorDeps,
    private readonly options: WorkerOptions,
  ) {}

  get running(): boolean {
    return this.#running;
  }

  /** Wakes a sleeping worker (new or replayed events). */
  wake(): void {
    this.#wake?.();
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#unlisten = await this.database
      .listen(INBOX_CHANNEL, () => this.#wake?.())
      .catch((err: unknown) => {
        this.deps.log.warn({ err }, 'automation worker: LISTEN failed, polling only');
        return undefined;
      });
    this.#loop = this.#run();
    if (this.backfill) this.#backfillLoop = this.#runBackfills(this.backfill);
  }

  async #runBackfills(runner: LinearBackfillRunner): Promise<void> {
    while (this.#running) {
      let had = false;
      try {
        had = await runner.runOnce();
      } catch (err) {
        this.deps.log.warn({ err }, 'automation worker: backfill step failed');
      }
      if (!had && this.#running)
        await new Promise<void>((resolve) => {
          this.#backfillTimer = setTimeout(resolve, this.options.pollMs);
          this.#backfillWake = () => {
            clearTimeout(this.#backfillTimer);
            resolve();
          };
        });
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    this.#backfillWake?.();
    await this.#loop;
    await this.#backfillLoop;
    await this.#unlisten?.().catch(() => undefined);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
      } catch (err) {
        // A lost database connection: back off one poll interval and try again.
        this.deps.log.warn({ err }, 'automation worker: claim failed');
      }
      if (claimed === 0 && this.#running) await this.#sleep(this.options.pollMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(this.#timer);
        this.#wake = undefined;
        resolve();
      };
    });
  }

  /** Claims one batch and processes it; returns how many events were claimed. */
  async runOnce(): Promise<number> {
    const rows = await claimInboxEvents(this.deps.db, {
      workerId: this.workerId,
      batch: this.options.batchSize,
      leaseMs: this.options.leaseMs,
    });
    if (rows.length === 0) return 0;
    // Events of one entity stay in one lane, in provider order; lanes run in parallel.
    const lanes = new Map<string, InboxEventRow[]>();
    for (const row of rows) {
      const key = row.entityId ? `${row.provider}:${row.entityId}` : row.id;
      const lane = lanes.get(key) ?? [];
      lane.push(row);
      lanes.set(key, lane);
    }
    const queue = [...lanes.values()];
    const cache: BatchCache = new Map();
    const workers = Array.from(
      { length: Math.min(this.options.concurrency, queue.length) },
      async () => {
        for (let lane = queue.shift(); lane; lane = queue.shift())
          for (const row of lane) await this.processOne(row, cache);
      },
    );
    await Promise.all(workers);
    return rows.length;
  }

  /** Runs until nothing is due (tests and tools drive the worker by hand with this). */
  async drain(maxRounds = 1000): Promise<number> {
    let total = 0;
    for (let i = 0; i < maxRounds; i++) {
      const n = await this.runOnce();
      if (n === 0) break;
      total += n;
    }
    return total;
  }

  async processOne(row: InboxEventRow, cache?: BatchCache): Promise<void> {
    let prepared: PreparedEvent | null = null;
    try {
      prepared = await prepareInboxEvent(this.deps, row, cache);
      if (!prepared) {
        await deadLetterInbox(this.deps.db, {
          id: row.id,
          workerId: this.workerId,
          error: 'the connection of this event no longer exists',
        });
        this.deps.onOutcome?.('dead_lettered');
        return;
      }
      await commitInboxEvent(this.deps, prepared);
      this.deps.onOutcome?.('succeeded');
    } catch (err) {
      await this.#fail(row, prepared, err).catch((e: unknown) =>
        this.deps.log.error(
          { err: e, inboxEventId: row.id },
          'automation worker: recording a failure failed',
        ),
      );
    }
  }

  async #fail(row: InboxEventRow, prepared: PreparedEvent | null, err: unknown): Promise<void> {
    const error = describe(err);
    const permanent = err instanceof PermanentError;
    const dead = permanent || row.attempts >= this.options.maxAttempts;
    this.deps.log.warn(
      { inboxEventId: row.id, attempts: row.attempts, dead, error },
      'automation worker: event failed',
    );
    for (const target of prepared?.targets ?? [])
      await recordRunFailure(this.deps.db, {
        inboxEventId: row.id,
        targetKey: target.key,
        kind: target.kind,
        automationId: target.kind === 'rule' ? target.automation.id : null,
        containerId: target.kind === 'sync' ? target.link.containerId : null,
        workspace: prepared?.workspace ?? null,
        attempts: row.attempts,
        status: dead ? 'dead' : 'failed',
        error,
      });
    if (dead) {
      await deadLetterInbox(this.deps.db, { id: row.id, workerId: this.workerId, error });
      this.deps.onOutcome?.('dead_lettered');
      return;
    }
    const backoff = backoffDelay(row.attempts, {
      baseMs: this.options.retryBaseMs,
      maxMs: this.options.retryMaxMs,
    });
    const retryAfter = err instanceof TransientError ? (err.retryAfterMs ?? 0) : 0;
    await scheduleInboxRetry(this.deps.db, {
      id: row.id,
      workerId: this.workerId,
      delayMs: Math.max(backoff, retryAfter),
      error,
    });
    this.deps.onOutcome?.('retried');
  }
}
