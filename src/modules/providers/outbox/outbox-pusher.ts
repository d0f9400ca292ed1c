import type { FastifyBaseLogger } from 'fastify';
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
