import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/database.ts';
import { recordOutgoingRun } from '../../automations/automations.repository.ts';
import { backoffDelay } from '../../inbox/inbox.worker.ts';
import type { syncOutboxFor } from './sync-outbox.repository.ts';
import type { SyncOutboxRow } from './sync-outbox.table.ts';

type Outbox = ReturnType<typeof syncOutboxFor>;
export type ClaimedPush = Pick<SyncOutboxRow, 'taskId' | 'fields' | 'revision' | 'attempts'>;
export type OutgoingRun = Omit<Parameters<typeof recordOutgoingRun>[1], 'status' | 'error'>;

export interface OutboxPusherDeps {
  db: Db;
  log: FastifyBaseLogger;
  batchSize: number;
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** The pusher settings every provider takes from the configuration. */
export function outboxPusherSettings(config: Config) {
  return {
    batchSize: config.AUTOMATION_BATCH_SIZE,
    leaseMs: config.AUTOMATION_LEASE_MS,
    pollMs: config.AUTOMATION_POLL_MS,
    maxAttempts: config.AUTOMATION_MAX_ATTEMPTS,
    retryBaseMs: config.AUTOMATION_RETRY_BASE_MS,
    retryMaxMs: config.AUTOMATION_RETRY_MAX_MS,
  };
}

/**
 * A provider's pusher, a background job beside the inbox worker (woken by the outbox
 * trigger's NOTIFY): claims due rows with a lease and pushes each; a push that throws is
 * recorded by `fail`.
 */
export abstract class OutboxPushRunner<D extends OutboxPusherDeps> {
  abstract readonly name: string;

  constructor(
    protected readonly outbox: Outbox,
    protected readonly deps: D,
    protected readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  ) {}

  /** Pushes one batch of due rows; returns whether there was any. */
  async runOnce(): Promise<boolean> {
    const rows = await claimDuePushes(this.outbox, this.deps, this.workerId);
    if (rows.length === 0) return false;
    await Promise.all(
      rows.map((row) => this.pushOne(row).catch((err: unknown) => this.fail(row, err))),
    );
    return true;
  }

  /** Runs until nothing is due (tests). */
  async drain(maxRounds = 100): Promise<void> {
    for (let i = 0; i < maxRounds; i++) if (!(await this.runOnce())) return;
  }

  protected abstract pushOne(row: ClaimedPush): Promise<void>;
  protected abstract fail(row: ClaimedPush, err: unknown): Promise<void>;
}

/**
 * Claims a provider's due outbox rows. When none is due but one falls due within the poll
 * interval (a change made a moment ago, in its coalescing window), waits for it rather than
 * for the next poll.
 */
export async function claimDuePushes(
  outbox: Outbox,
  deps: OutboxPusherDeps,
  workerId: string,
): Promise<SyncOutboxRow[]> {
  const claim = () =>
    outbox.claimOutbox(deps.db, { workerId, batch: deps.batchSize, leaseMs: deps.leaseMs });
  const rows = await claim();
  if (rows.length > 0) return rows;
  const dueIn = await outbox.nextOutboxDueInMs(deps.db);
  if (dueIn === null || dueIn > deps.pollMs) return [];
  await new Promise((resolve) => setTimeout(resolve, dueIn + 5));
  return claim();
}

/**
 * A failed push: recorded in run history (`failed` will be retried, `dead` is dead-lettered)
 * and put back with backoff (never sooner than `retryAfterMs`), or held at the longest delay
 * while the connection waits for reauthorization.
 */
export async function recordFailedPush(
  outbox: Outbox,
  deps: OutboxPusherDeps,
  input: {
    row: ClaimedPush;
    err: unknown;
    permanent: boolean;
    held: boolean;
    retryAfterMs?: number | null;
    run: OutgoingRun | undefined;
  },
): Promise<void> {
  const { row, err, held } = input;
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const permanent = input.permanent || row.attempts >= deps.maxAttempts;
  const dead = permanent && !held;
  const provider = input.run?.provider ?? 'provider';
  deps.log.warn({ taskId: row.taskId, error, permanent, held }, `${provider} push failed`);
  if (input.run)
    await recordOutgoingRun(deps.db, {
      ...input.run,
      status: dead ? 'dead' : 'failed',
      error,
    }).catch((e: unknown) => deps.log.error({ err: e }, `${provider} push: run not recorded`));
  const backoff = backoffDelay(row.attempts, {
    baseMs: deps.retryBaseMs,
    maxMs: deps.retryMaxMs,
  });
  await outbox
    .failOutbox(deps.db, {
      taskId: row.taskId,
      error,
      dead,
      delayMs: held ? deps.retryMaxMs : Math.max(backoff, input.retryAfterMs ?? 0),
    })
    .catch((e: unknown) => deps.log.error({ err: e }, `${provider} push: recording failed`));
}
