import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Database, Executor } from '../../db/database.ts';
import { PermanentError, TransientError } from './inbox.errors.ts';
import { claimInboxEvents, deadLetterInbox, scheduleInboxRetry } from './inbox.repository.ts';
import type { InboxEventRow } from './inbox.table.ts';
import { INBOX_CHANNEL } from './inbox-intake.ts';

/**
 * Look-ups shared by the events of one claimed batch (same connection, same rules): a rule
 * saved while a batch runs applies from the next batch on.
 */
export type BatchCache = Map<string, Promise<unknown>>;

export function cached<T>(
  cache: BatchCache | undefined,
  key: string,
  load: () => Promise<T>,
): Promise<T> {
  if (!cache) return load();
  let hit = cache.get(key) as Promise<T> | undefined;
  if (!hit) {
    hit = load();
    cache.set(key, hit);
  }
  return hit;
}

/**
 * What the worker does with events (the automation engine). `prepare` runs outside any
 * transaction (reads, provider calls); `applyBatch` runs inside a transaction and marks the
 * rows processed in it (`markInboxProcessed`, or its statement folded into one of its own),
 * so the events' effects and their `processed` state commit together.
 */
export interface InboxHandler<P> {
  /** null: the event has nowhere to go (its connection is gone): dead-lettered. */
  prepare(row: InboxEventRow, cache: BatchCache): Promise<P | null>;
  /**
   * Applies prepared events, in provider order, in the caller's transaction, and marks the
   * inbox rows `processed` (all of them, whatever their events did) in it.
   */
  applyBatch(tx: Executor, batch: readonly P[], processed: readonly string[]): Promise<void>;
  /** Records a failed attempt (`dead`: no more retries). */
  recordFailure(input: {
    row: InboxEventRow;
    prepared: P | null;
    error: string;
    dead: boolean;
  }): Promise<void>;
}

/** Work that runs beside the inbox loop (a provider's backfills); true when it did something. */
export interface BackgroundJob {
  name: string;
  runOnce(): Promise<boolean>;
}

type Ready<P> = { row: InboxEventRow; prepared: P };

/** A claimed batch, prepared; `wakeups`: the wake-up count when its claim was sent. */
type ClaimedBatch<P> = { claimed: number; ready: Ready<P>[]; wakeups: number };

export type InboxOutcome = 'succeeded' | 'retried' | 'dead_lettered';

export interface WorkerOptions {
  /** Events claimed, and applied in one transaction, at once. */
  batchSize: number;
  /** Batches in flight at once in this process (each its own claim and transaction). */
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
export class InboxWorker<P = unknown> {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #running = false;
  #loop: Promise<void> | undefined;
  readonly #sleepers = new Set<() => void>();
  /** Counts wake-ups, so that one arriving while a loop claims is not slept through. */
  #wakeups = 0;
  #unlisten: (() => Promise<void>) | undefined;
  #jobsLoop: Promise<void> | undefined;
  #jobsTimer: NodeJS.Timeout | undefined;
  #jobsWake: (() => void) | undefined;
  readonly #jobs: BackgroundJob[] = [];

  constructor(
    private readonly database: Database,
    private readonly handler: InboxHandler<P>,
    private readonly options: WorkerOptions & {
      log: FastifyBaseLogger;
      /** Called once per processed inbox event with its outcome (metrics). */
      onOutcome?: (outcome: InboxOutcome) => void;
    },
  ) {}

  /** Adds work to run beside the inbox loop once started (a provider's backfills). */
  addBackgroundJob(job: BackgroundJob): void {
    this.#jobs.push(job);
  }

  get running(): boolean {
    return this.#running;
  }

  /**
   * Wakes the worker (new or replayed events): one sleeping loop, and every busy loop claims
   * again when its batch is done (the wake-up count moved). Waking every sleeping loop for
   * every delivery made them all claim at once for one event (empty claims, each a write).
   * A loop that claims a full batch wakes the next one itself.
   */
  wake(): void {
    this.#wakeups += 1;
    this.#wakeOne();
    // Background jobs share the wake-up (the two-way sync's outbox notifies the same channel).
    this.#jobsWake?.();
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#unlisten = await this.database
      .listen(INBOX_CHANNEL, () => this.wake())
      .catch((err: unknown) => {
        this.options.log.warn({ err }, 'inbox worker: LISTEN failed, polling only');
        return undefined;
      });
    this.#loop = Promise.all(
      Array.from({ length: Math.max(1, this.options.concurrency) }, () => this.#run()),
    ).then(() => undefined);
    if (this.#jobs.length > 0) this.#jobsLoop = this.#runJobs();
  }

  async #runJobs(): Promise<void> {
    while (this.#running) {
      let had = false;
      for (const job of this.#jobs) {
        try {
          had = (await job.runOnce()) || had;
        } catch (err) {
          this.options.log.warn({ err, job: job.name }, 'inbox worker: background job failed');
        }
      }
      if (!had && this.#running)
        await new Promise<void>((resolve) => {
          this.#jobsTimer = setTimeout(resolve, this.options.pollMs);
          this.#jobsWake = () => {
            clearTimeout(this.#jobsTimer);
            resolve();
          };
        });
    }
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    for (const wake of [...this.#sleepers]) wake();
    this.#jobsWake?.();
    await this.#loop;
    await this.#jobsLoop;
    await this.#unlisten?.().catch(() => undefined);
  }

  /**
   * One loop of the worker. After a full batch (a backlog), the next batch is claimed and
   * prepared while the current one applies, so the claim and the reads before the
   * transaction overlap the transaction instead of following it. Batches still apply one
   * after the other in a loop, so an entity's events keep their order; a prefetched batch is
   * applied even when the worker is stopping (its rows are claimed: left alone they would
   * wait for their lease to end).
   */
  async #run(): Promise<void> {
    let next: Promise<ClaimedBatch<P>> | undefined;
    while (this.#running || next) {
      let idle = true;
      try {
        const batch = await (next ?? this.#claimBatch());
        next = undefined;
        if (batch.claimed > 0) {
          idle = false;
          // A full batch: more is likely waiting.
          if (batch.claimed >= this.options.batchSize) {
            this.#wakeOne();
            if (this.#running)
              next = this.#claimBatch().catch((err: unknown) => {
                this.options.log.warn({ err }, 'inbox worker: claim failed');
                // Not idle (the count cannot match): the loop claims again at once.
                return { claimed: 0, ready: [], wakeups: -1 };
              });
          }
          await this.#applyGroup(batch.ready);
        } else idle = this.#wakeups === batch.wakeups;
      } catch (err) {
        // A lost database connection: back off one poll interval and try again.
        this.options.log.warn({ err }, 'inbox worker: claim failed');
      }
      if (idle && this.#running) await this.#sleep(this.options.pollMs);
    }
  }

  #wakeOne(): void {
    const [first] = this.#sleepers;
    first?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  /** Claims one batch and processes it; returns how many events were claimed. */
  async runOnce(): Promise<number> {
    const batch = await this.#claimBatch();
    await this.#applyGroup(batch.ready);
    return batch.claimed;
  }

  /** Claims a batch and prepares its events (outside any transaction). */
  async #claimBatch(): Promise<ClaimedBatch<P>> {
    // A wake-up after this point may concern events the claim below does not see.
    const wakeups = this.#wakeups;
    const rows = await claimInboxEvents(this.database.db, {
      workerId: this.workerId,
      batch: this.options.batchSize,
      leaseMs: this.options.leaseMs,
    });
    if (rows.length === 0) return { claimed: 0, ready: [], wakeups };
    const cache: BatchCache = new Map();
    const prepared = await Promise.all(rows.map((row) => this.#prepare(row, cache)));
    return {
      claimed: rows.length,
      ready: prepared.filter((p): p is Ready<P> => p !== undefined),
      wakeups,
    };
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

  async #prepare(row: InboxEventRow, cache: BatchCache): Promise<Ready<P> | undefined> {
    try {
      const prepared = await this.handler.prepare(row, cache);
      if (prepared !== null) return { row, prepared };
      await deadLetterInbox(this.database.db, {
        id: row.id,
        workerId: this.workerId,
        error: 'the connection of this event no longer exists',
      });
      this.options.onOutcome?.('dead_lettered');
    } catch (err) {
      await this.#failSafely(row, null, err);
    }
    return undefined;
  }

  /**
   * One transaction for the group, with the rows marked processed in it. If it fails, the
   * group is split in halves (in order, so an entity's events keep their order) down to
   * single events: one bad event fails, retries or dead-letters only itself.
   */
  async #applyGroup(group: readonly Ready<P>[]): Promise<void> {
    if (group.length === 0) return;
    try {
      await this.database.db.transaction(async (tx) => {
        await this.handler.applyBatch(
          tx,
          group.map((g) => g.prepared),
          group.map((g) => g.row.id),
        );
      });
      for (const _ of group) this.options.onOutcome?.('succeeded');
    } catch (err) {
      const [single] = group;
      if (group.length === 1 && single) {
        await this.#failSafely(single.row, single.prepared, err);
        return;
      }
      const half = Math.ceil(group.length / 2);
      await this.#applyGroup(group.slice(0, half));
      await this.#applyGroup(group.slice(half));
    }
  }

  async #failSafely(row: InboxEventRow, prepared: P | null, err: unknown): Promise<void> {
    await this.#fail(row, prepared, err).catch((e: unknown) =>
      this.options.log.error(
        { err: e, inboxEventId: row.id },
        'inbox worker: recording a failure failed',
      ),
    );
  }

  async #fail(row: InboxEventRow, prepared: P | null, err: unknown): Promise<void> {
    const error = describe(err);
    const permanent = err instanceof PermanentError;
    const dead = permanent || row.attempts >= this.options.maxAttempts;
    this.options.log.warn(
      { inboxEventId: row.id, attempts: row.attempts, dead, error },
      'inbox worker: event failed',
    );
    await this.handler.recordFailure({ row, prepared, error, dead });
    if (dead) {
      await deadLetterInbox(this.database.db, { id: row.id, workerId: this.workerId, error });
      this.options.onOutcome?.('dead_lettered');
      return;
    }
    const backoff = backoffDelay(row.attempts, {
      baseMs: this.options.retryBaseMs,
      maxMs: this.options.retryMaxMs,
    });
    const retryAfter = err instanceof TransientError ? (err.retryAfterMs ?? 0) : 0;
    await scheduleInboxRetry(this.database.db, {
      id: row.id,
      workerId: this.workerId,
      delayMs: Math.max(backoff, retryAfter),
      error,
    });
    this.options.onOutcome?.('retried');
  }
}
