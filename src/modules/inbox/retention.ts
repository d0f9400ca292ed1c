import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Executor } from '../../db/database.ts';
import { releaseJobLease, renewJobLease, takeJobLease } from './job-leases.repository.ts';

const DAY_MS = 86_400_000;

/** `days` before `now`: the cutoff of a retention window. */
export const daysBefore = (now: Date, days: number): Date =>
  new Date(now.getTime() - days * DAY_MS);

/**
 * One table's retention, supplied by the module that owns the table (inbox events, runs, a
 * provider's backfills): delete at most `limit` rows past their window as of `now`.
 */
export interface RetentionTarget {
  table: string;
  deleteBatch(input: { now: Date; limit: number }): Promise<number>;
}

export interface RetentionOptions {
  db: Executor;
  targets: readonly RetentionTarget[];
  clock: { now(): number; sleep(ms: number): Promise<void> };
  log: FastifyBaseLogger;
  /** Rows per delete statement. */
  batchSize: number;
  /** Pause between two batches, so the deletes never crowd out the worker. */
  pauseMs: number;
  /** A run at most this often across all instances (0: never on its own, `runOnce` only). */
  intervalMs: number;
  /** Lease of the running instance, renewed before each batch. */
  leaseMs: number;
  onDeleted?: (table: string, rows: number) => void;
}

export const RETENTION_JOB = 'retention';

/**
 * Deletes what the retention windows say is old, in small batches with pauses. One instance
 * at a time runs it (the `retention` job lease), at most once per interval across instances;
 * each batch is its own short statement that skips locked rows (see `deleteBatch`).
 */
export class RetentionRunner {
  readonly #holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopping = false;

  constructor(private readonly options: RetentionOptions) {}

  /**
   * One run if it is due and no other instance runs it: rows deleted per table, or null when
   * not run. A run that loses its lease (it took longer than the lease) stops between batches.
   */
  async runOnce(): Promise<Record<string, number> | null> {
    const { db, clock, leaseMs } = this.options;
    const lease = () => new Date(clock.now() + leaseMs);
    const taken = await takeJobLease(db, {
      name: RETENTION_JOB,
      holder: this.#holder,
      now: new Date(clock.now()),
      until: lease(),
    });
    if (!taken) return null;
    const deleted: Record<string, number> = {};
    try {
      for (const target of this.options.targets) {
        deleted[target.table] = 0;
        let count = 0;
        for (;;) {
          if (this.#stopping) return deleted;
          if (
            !(await renewJobLease(db, {
              name: RETENTION_JOB,
              holder: this.#holder,
              until: lease(),
            }))
          )
            return deleted;
          const rows = await target.deleteBatch({
            now: new Date(clock.now()),
            limit: this.options.batchSize,
          });
          count += rows;
          deleted[target.table] = count;
          if (rows > 0) this.options.onDeleted?.(target.table, rows);
          if (rows < this.options.batchSize) break;
          await clock.sleep(this.options.pauseMs);
        }
      }
      return deleted;
    } finally {
      await releaseJobLease(db, {
        name: RETENTION_JOB,
        holder: this.#holder,
        nextRunAt: new Date(clock.now() + this.options.intervalMs),
      });
      const total = Object.values(deleted).reduce((a, b) => a + b, 0);
      if (total > 0) this.options.log.info({ deleted }, 'retention: old rows deleted');
    }
  }

  /** Runs every interval (the first one interval after start). */
  start(): void {
    if (this.options.intervalMs <= 0 || this.#timer) return;
    this.#stopping = false;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.runOnce()
        .catch((err: unknown) => this.options.log.warn({ err }, 'retention run failed'))
        .finally(() => {
          this.#running = undefined;
        });
    }, this.options.intervalMs);
    this.#timer.unref();
  }

  /** Stops the schedule; a run in progress stops after its current batch. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
