import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Executor } from '../../db/database.ts';
import { PermanentError } from '../inbox/inbox.errors.ts';
import type { InboxEventRow } from '../inbox/inbox.table.ts';
import { type BatchCache, cached, type InboxHandler } from '../inbox/inbox.worker.ts';
import { findConnectionOwner } from '../integrations/integrations.repository.ts';
import { type Workspace, workspaceOfRow } from '../workspaces/workspace.context.ts';
import { applyActions } from './actions/registry.ts';
import type { AutomationDefinition } from './automation.definition.ts';
import type { EffectContext, ItemStore } from './automation.effects.ts';
import type { NormalizedEvent } from './automation.event.ts';
import { evaluateRule } from './automation.rules.ts';
import type { EventSource, EventSources, SyncTarget } from './automation.sources.ts';
import {
  claimRun,
  finishRun,
  listEnabledAutomations,
  type RunOutcome,
  recordRunFailure,
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
} {
  return {
    trigger: {
      source: row.source,
      event: row.event,
      scope: (row.scope ?? {}) as AutomationDefinition['trigger']['scope'],
    },
    conditions: row.conditions,
    actions: row.actions as AutomationDefinition['actions'],
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
    const syncs = source.syncTargets
      ? await source.syncTargets({ db: deps.db, row, event, cache: cache ?? new Map() })
      : [];
    for (const sync of syncs) targets.push({ kind: 'sync', key: sync.key, sync });
    const rules = await cached(cache, `rules:${row.connectionId}:${event.event}`, () =>
      listEnabledAutomations(deps.db, { workspace, source: event.source, event: event.event }),
    );
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

async function lockEntity(tx: Executor, provider: string, entityId: string): Promise<void> {
  // Serializes the processing of one external entity across workers and processes, so its
  // events apply one at a time; the stored version then drops whichever is older.
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtextextended(${`${provider}:${entityId}`}, 0))`,
  );
}

function actingUser(prepared: PreparedEvent, preferred: string | null): string {
  const id = preferred ?? prepared.connectedByUserId ?? prepared.workspace.userId;
  if (!id) throw new PermanentError('no user to create items as (the connection has no owner)');
  return id;
}

/**
 * Applies one event to every target inside the worker's transaction, which also holds the
 * run records and the inbox row's `processed` state: all of it commits, or nothing does and
 * the event is retried. A target whose run already succeeded (replay, lease taken over) is
 * skipped.
 */
export async function applyInboxEvent(
  deps: ProcessorDeps,
  tx: Executor,
  prepared: PreparedEvent,
): Promise<void> {
  const { row, event } = prepared;
  if (!event) return;
  await lockEntity(tx, event.source, event.entityId);
  for (const target of prepared.targets) {
    const claimed = await claimRun(tx, {
      inboxEventId: row.id,
      targetKey: target.key,
      kind: target.kind,
      automationId: target.kind === 'rule' ? target.automation.id : null,
      containerId: target.kind === 'sync' ? target.sync.containerId : null,
      workspace: prepared.workspace,
      attempts: row.attempts,
    });
    if (!claimed) continue;
    const outcome = await runTarget(deps, tx, prepared, event, target);
    await finishRun(tx, { inboxEventId: row.id, targetKey: target.key, outcome });
  }
}

async function runTarget(
  deps: ProcessorDeps,
  tx: Executor,
  prepared: PreparedEvent,
  event: NormalizedEvent,
  target: Target,
): Promise<RunOutcome & { effects: unknown[] }> {
  const versionAt = event.entityVersionAt ?? event.occurredAt;
  const context = (preferredUserId: string | null): EffectContext => ({
    db: tx,
    store: deps.store,
    workspace: prepared.workspace,
    actingUserId: actingUser(prepared, preferredUserId),
    versionAt,
    dryRun: false,
  });
  if (target.kind === 'sync') return target.sync.run(context(target.sync.createdByUserId), event);
  if (!prepared.source) throw new PermanentError(`no provider "${event.source}"`);
  const evaluation = evaluateRule(ruleOf(target.automation), event, {
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
  const effects = await applyActions(
    context(target.automation.createdByUserId),
    evaluation.actions,
  );
  return { status: 'succeeded', matched: true, effects, warnings: evaluation.warnings };
}

/** The automation engine as the inbox worker's handler. */
export function automationHandler(deps: ProcessorDeps): InboxHandler<PreparedEvent> {
  return {
    prepare: (row, cache) => prepareInboxEvent(deps, row, cache),
    apply: (tx, prepared) => applyInboxEvent(deps, tx, prepared),
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
