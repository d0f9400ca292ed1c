import { type SQL, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Executor } from '../../db/database.ts';
import { executeTogether } from '../../db/one-statement.ts';
import { PermanentError } from '../inbox/inbox.errors.ts';
import { markInboxProcessed, markInboxProcessedQuery } from '../inbox/inbox.repository.ts';
import type { InboxEventRow } from '../inbox/inbox.table.ts';
import { type BatchCache, cached, type InboxHandler } from '../inbox/inbox.worker.ts';
import { findConnectionOwner } from '../integrations/integrations.repository.ts';
import { type Workspace, workspaceOfRow } from '../workspaces/workspace.context.ts';
import { applyActions } from './actions/registry.ts';
import type { AutomationDefinition } from './automation.definition.ts';
import type { EffectContext, ItemStore } from './automation.effects.ts';
import type { NormalizedEvent } from './automation.event.ts';
import { evaluateRule } from './automation.rules.ts';
import type { EventSource, EventSources, SyncOutcome, SyncTarget } from './automation.sources.ts';
import type { RuleSync, WriteBackMapping } from './automation.write-back.ts';
import {
  finishRuns,
  listEnabledAutomations,
  listSucceededRuns,
  type RunClaim,
  type RunOutcome,
  recordRunFailure,
  rememberOrigin,
  runKeyOf,
  setOriginColumn,
  withChangeOrigin,
} from './automations.repository.ts';
import type { AutomationRow } from './automations.table.ts';

export interface ProcessorDeps {
  db: Db;
  store: ItemStore;
  sources: EventSources;
  /** Actor ids of this server's own integration identities (loop guard). */
  ownActorIds: readonly string[];
  log: FastifyBaseLogger;
}

export type Target =
  | { kind: 'rule'; key: string; automation: AutomationRow }
  | { kind: 'sync'; key: string; sync: SyncTarget };

export interface PreparedEvent {
  row: InboxEventRow;
  workspace: Workspace;
  connectedByUserId: string | null;
  source: EventSource | undefined;
  event: NormalizedEvent | null;
  targets: Target[];
}

/** The rule as stored, in the shape the evaluator takes. */
export function ruleOf(row: AutomationRow): {
  trigger: AutomationDefinition['trigger'];
  conditions: unknown;
  actions: AutomationDefinition['actions'];
  sync: RuleSync;
  writeBack: WriteBackMapping[] | null;
} {
  return {
    trigger: {
      source: row.source,
      event: row.event,
      scope: (row.scope ?? {}) as AutomationDefinition['trigger']['scope'],
    },
    conditions: row.conditions,
    actions: row.actions as AutomationDefinition['actions'],
    sync: row.sync,
    writeBack: (row.writeBack as WriteBackMapping[] | null) ?? null,
  };
}

/** Everything outside the transaction: the connection, the event, the targets. */
export async function prepareInboxEvent(
  deps: ProcessorDeps,
  row: InboxEventRow,
  cache?: BatchCache,
): Promise<PreparedEvent | null> {
  const connection = await cached(cache, `connection:${row.connectionId}`, () =>
    findConnectionOwner(deps.db, row.connectionId),
  );
  if (!connection) return null;
  const workspace = workspaceOfRow(connection);
  const source = deps.sources.get(row.provider);
  const event = source ? await source.normalizeStored(row) : null;
  const targets: Target[] = [];
  if (source && event) {
    // Independent reads (each its own statement on its own pool client, as before, now at
    // once): one round trip on the batch's path instead of two.
    const [syncs, rules] = await Promise.all([
      source.syncTargets
        ? source.syncTargets({ db: deps.db, row, event, cache: cache ?? new Map() })
        : [],
      cached(cache, `rules:${row.connectionId}:${event.event}`, () =>
        listEnabledAutomations(deps.db, { workspace, source: event.source, event: event.event }),
      ),
    ]);
    for (const sync of syncs) targets.push({ kind: 'sync', key: sync.key, sync });
    for (const automation of rules)
      targets.push({ kind: 'rule', key: `automation:${automation.id}`, automation });
  }
  return {
    row,
    workspace,
    connectedByUserId: connection.connectedByUserId ?? connection.userId,
    source,
    event,
    targets,
  };
}

/**
 * Takes the entity locks of a batch and, in the same statement, sets the transaction's
 * `monoid.sync_origin` to `origin` (the source of the batch's events: every write the batch
 * makes comes from them), so the rules and syncs of that source switch it at no round trip.
 */
export async function lockEntities(
  tx: Executor,
  keys: readonly string[],
  origin?: string,
): Promise<void> {
  // Serializes the processing of each external entity across workers and processes, so its
  // events apply one at a time; the stored version then drops whichever is older. Taken in
  // one order (sorted hashes) so that two batches sharing entities cannot deadlock.
  if (keys.length === 0 && origin === undefined) return;
  await tx.execute(sql`
    with locks as (
      select pg_advisory_xact_lock(h) from (
        select distinct hashtextextended(k, 0) as h
        from jsonb_array_elements_text(${JSON.stringify([...new Set(keys)])}::jsonb) as k
        order by 1
      ) as hashes
    )
    select (select count(*) from locks) as locked${
      origin === undefined ? sql`` : sql`, ${setOriginColumn(origin)} as origin`
    }`);
  if (origin !== undefined) rememberOrigin(tx, origin);
}

function actingUser(prepared: PreparedEvent, preferred: string | null): string {
  const id = preferred ?? prepared.connectedByUserId ?? prepared.workspace.userId;
  if (!id) throw new PermanentError('no user to create items as (the connection has no owner)');
  return id;
}

type Claimed = { prepared: PreparedEvent & { event: NormalizedEvent }; target: Target };

/**
 * Applies a claimed batch inside the worker's transaction, which also holds the run records
 * and the inbox rows' `processed` state: all of it commits, or nothing does (the worker then
 * splits the batch to isolate the failing event). Per event, every target (the built-in sync
 * of each linked container, each enabled rule) runs once: a run that already succeeded
 * (replay, lease taken over) is skipped. The syncs of the whole batch run first, set-based
 * where the provider offers it, in provider order; then the rules, event by event.
 */
export async function applyInboxBatch(
  deps: ProcessorDeps,
  tx: Executor,
  batch: readonly PreparedEvent[],
  processed: readonly string[],
): Promise<void> {
  const live = batch.filter(
    (p): p is PreparedEvent & { event: NormalizedEvent } => p.event !== null,
  );
  if (live.length === 0) return markInboxProcessed(tx, processed);
  await lockEntities(
    tx,
    live.map((p) => `${p.event.source}:${p.event.entityId}`),
    live[0]?.event.source,
  );
  const wanted: Claimed[] = live.flatMap((prepared) =>
    prepared.targets.map((target) => ({ prepared, target })),
  );
  const succeeded = await listSucceededRuns(
    tx,
    live.map((p) => p.row.id),
  );
  const todo = wanted.filter(
    ({ prepared, target }) =>
      !succeeded.has(runKeyOf({ inboxEventId: prepared.row.id, targetKey: target.key })),
  );
  const finished: Array<RunClaim & { outcome: RunOutcome }> = [];
  const done = ({ prepared, target }: Claimed, outcome: RunOutcome) =>
    finished.push({
      inboxEventId: prepared.row.id,
      targetKey: target.key,
      kind: target.kind,
      automationId: target.kind === 'rule' ? target.automation.id : null,
      containerId: target.kind === 'sync' ? target.sync.containerId : null,
      workspace: prepared.workspace,
      attempts: prepared.row.attempts,
      outcome,
    });

  // A source's last writes, handed over to go with the runs' statement (`runSyncBatch`'s
  // `defer`): sent first if anything else is to run before that.
  const deferred: SQL[] = [];
  const flush = () => executeTogether(tx, deferred.splice(0));
  const syncsBySource = new Map<EventSource | undefined, Claimed[]>();
  for (const c of todo)
    if (c.target.kind === 'sync')
      syncsBySource.set(c.prepared.source, [...(syncsBySource.get(c.prepared.source) ?? []), c]);
  for (const [source, syncs] of syncsBySource) {
    await flush();
    const runs = syncs.flatMap((c) =>
      c.target.kind === 'sync'
        ? [
            {
              target: c.target.sync,
              event: c.prepared.event,
              ctx: contextOf(deps, tx, c.prepared, c.target.sync.createdByUserId),
            },
          ]
        : [],
    );
    const outcomes = source?.runSyncBatch
      ? await source.runSyncBatch(tx, runs, (writes) => deferred.push(...writes))
      : await sequentially(runs, (run) => run.target.run(run.ctx, run.event));
    syncs.forEach((c, i) => {
      const outcome = outcomes[i];
      if (outcome) done(c, outcome);
    });
  }
  for (const c of todo)
    if (c.target.kind === 'rule') {
      await flush();
      done(c, await runRule(deps, tx, c.prepared, c.prepared.event, c.target.automation));
    }
  // The deferred writes, the runs and the inbox rows' `processed` state in one statement.
  await finishRuns(tx, finished, [
    ...deferred,
    processed.length > 0 ? markInboxProcessedQuery(tx, processed).getSQL() : undefined,
  ]);
}

async function sequentially<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (const item of items) out.push(await fn(item));
  return out;
}

function contextOf(
  deps: ProcessorDeps,
  tx: Executor,
  prepared: PreparedEvent & { event: NormalizedEvent },
  preferredUserId: string | null,
): EffectContext {
  return {
    db: tx,
    store: deps.store,
    workspace: prepared.workspace,
    actingUserId: actingUser(prepared, preferredUserId),
    versionAt: prepared.event.entityVersionAt ?? prepared.event.occurredAt,
    dryRun: false,
  };
}

async function runRule(
  deps: ProcessorDeps,
  tx: Executor,
  prepared: PreparedEvent & { event: NormalizedEvent },
  event: NormalizedEvent,
  automation: AutomationRow,
): Promise<SyncOutcome> {
  if (!prepared.source) throw new PermanentError(`no provider "${event.source}"`);
  const evaluation = evaluateRule(ruleOf(automation), event, {
    ownActorIds: deps.ownActorIds,
    source: prepared.source,
  });
  if (!evaluation.matched)
    return {
      status: evaluation.stage === 'loop_guard' ? 'skipped' : 'not_matched',
      matched: false,
      stage: evaluation.stage,
      reason: evaluation.reason,
      failedCondition: evaluation.failedCondition,
      effects: [],
    };
  // A rule's change made from a provider's event is not pushed back to that provider.
  const effects = await withChangeOrigin(tx, event.source, (db) =>
    applyActions(
      { ...contextOf(deps, db, prepared, automation.createdByUserId), automationId: automation.id },
      evaluation.actions,
    ),
  );
  return { status: 'succeeded', matched: true, effects, warnings: evaluation.warnings };
}

/** The automation engine as the inbox worker's handler. */
export function automationHandler(deps: ProcessorDeps): InboxHandler<PreparedEvent> {
  return {
    prepare: (row, cache) => prepareInboxEvent(deps, row, cache),
    applyBatch: (tx, batch, processed) => applyInboxBatch(deps, tx, batch, processed),
    async recordFailure({ row, prepared, error, dead }) {
      for (const target of prepared?.targets ?? [])
        await recordRunFailure(deps.db, {
          inboxEventId: row.id,
          targetKey: target.key,
          kind: target.kind,
          automationId: target.kind === 'rule' ? target.automation.id : null,
          containerId: target.kind === 'sync' ? target.sync.containerId : null,
          workspace: prepared?.workspace ?? null,
          attempts: row.attempts,
          status: dead ? 'dead' : 'failed',
          error,
        });
    },
  };
}
