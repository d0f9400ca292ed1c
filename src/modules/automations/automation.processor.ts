import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db, Executor } from '../../db/database.ts';
import type { InboxEventRow, LinearTeamLinkRow } from '../integrations/integrations.table.ts';
import { type Workspace, workspaceOfRow } from '../workspaces/workspace.context.ts';
import type { AutomationDefinition } from './automation.definition.ts';
import {
  applyLinearSync,
  applyRuleActions,
  type Effect,
  type ItemStore,
  PermanentError,
} from './automation.effects.ts';
import {
  type NormalizedEvent,
  normalizeLinearEvent,
  normalizeNotionEvent,
} from './automation.event.ts';
import { evaluateRule, externalRefFor } from './automation.rules.ts';
import {
  findConnection,
  listTeamLinks,
  markInboxProcessed,
} from './automation-inbox.repository.ts';
import {
  claimRun,
  finishRun,
  listEnabledAutomations,
  type RunOutcome,
} from './automations.repository.ts';
import type { AutomationRow } from './automations.table.ts';
import { planLinearSync } from './linear-sync.mapping.ts';

/** Reads a Notion page (null when it is gone or not shared with the integration). */
export interface NotionPageReader {
  retrievePage(connectionId: string, pageId: string): Promise<unknown | null>;
}

export interface ProcessorDeps {
  db: Db;
  store: ItemStore;
  notion: NotionPageReader | null;
  /** Actor ids of this server's own integration identities (loop guard). */
  ownActorIds: readonly string[];
  log: FastifyBaseLogger;
  /** Called once per processed inbox event with its outcome (metrics). */
  onOutcome?: (outcome: 'succeeded' | 'retried' | 'dead_lettered') => void;
}

export type Target =
  | { kind: 'rule'; key: string; automation: AutomationRow }
  | { kind: 'sync'; key: string; link: LinearTeamLinkRow };

export interface PreparedEvent {
  row: InboxEventRow;
  workspace: Workspace;
  connectedByUserId: string | null;
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
      event: row.event as AutomationDefinition['trigger']['event'],
      scope: (row.scope ?? {}) as AutomationDefinition['trigger']['scope'],
    },
    conditions: row.conditions,
    actions: row.actions as AutomationDefinition['actions'],
  };
}

/** Normalizes a stored inbox row (Notion: reads the page back first). */
export async function normalizeInboxRow(
  deps: Pick<ProcessorDeps, 'notion'>,
  row: Pick<InboxEventRow, 'provider' | 'payload' | 'connectionId' | 'entityId' | 'eventType'>,
): Promise<NormalizedEvent | null> {
  if (row.provider === 'linear') return normalizeLinearEvent(row.payload);
  if (!row.eventType.startsWith('page.')) return null;
  let page: unknown = null;
  if (row.eventType !== 'page.deleted' && row.entityId && deps.notion)
    page = await deps.notion.retrievePage(row.connectionId, row.entityId);
  return normalizeNotionEvent(row.payload, page);
}

/**
 * Look-ups shared by the events of one claimed batch (same connection, same rules): a rule
 * saved while a batch runs applies from the next batch on.
 */
export type BatchCache = Map<string, Promise<unknown>>;

function cached<T>(cache: BatchCache | undefined, key: string, load: () => Promise<T>): Promise<T> {
  if (!cache) return load();
  let hit = cache.get(key) as Promise<T> | undefined;
  if (!hit) {
    hit = load();
    cache.set(key, hit);
  }
  return hit;
}

/** Everything outside the transaction: the connection, the event, the targets. */
export async function prepareInboxEvent(
  deps: ProcessorDeps,
  row: InboxEventRow,
  cache?: BatchCache,
): Promise<PreparedEvent | null> {
  const connection = await cached(cache, `connection:${row.connectionId}`, () =>
    findConnection(deps.db, row.connectionId),
  );
  if (!connection) return null;
  const workspace = workspaceOfRow(connection);
  const event = await normalizeInboxRow(deps, row);
  const targets: Target[] = [];
  if (event) {
    if (
      event.source === 'linear' &&
      (event.entityType === 'issue' || event.entityType === 'project')
    ) {
      const teamIds =
        event.scope.teamIds.length > 0 ? event.scope.teamIds : row.teamId ? [row.teamId] : [];
      const links = await cached(cache, `links:${row.connectionId}:${teamIds.join(',')}`, () =>
        listTeamLinks(deps.db, { connectionId: row.connectionId, teamIds }),
      );
      for (const link of links)
        targets.push({ kind: 'sync', key: `sync:${link.containerId}`, link });
    }
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
 * Applies one event to every target in ONE transaction together with the run records and
 * the inbox row's `processed` state: all of it commits, or nothing does and the event is
 * retried. A target whose run already succeeded (replay, lease taken over) is skipped.
 */
export async function commitInboxEvent(
  deps: ProcessorDeps,
  prepared: PreparedEvent,
): Promise<{ runs: number; effects: Effect[] }> {
  const { row, event } = prepared;
  const all: Effect[] = [];
  let runs = 0;
  await deps.db.transaction(async (tx) => {
    if (event) await lockEntity(tx, event.source, event.entityId);
    for (const target of prepared.targets) {
      if (!event) break;
      const claimed = await claimRun(tx, {
        inboxEventId: row.id,
        targetKey: target.key,
        kind: target.kind,
        automationId: target.kind === 'rule' ? target.automation.id : null,
        containerId: target.kind === 'sync' ? target.link.containerId : null,
        workspace: prepared.workspace,
        attempts: row.attempts,
      });
      if (!claimed) continue;
      runs += 1;
      const outcome = await runTarget(deps, tx, prepared, event, target);
      all.push(...(outcome.effects as Effect[]));
      await finishRun(tx, { inboxEventId: row.id, targetKey: target.key, outcome });
    }
    await markInboxProcessed(tx, row.id);
  });
  return { runs, effects: all };
}

async function runTarget(
  deps: ProcessorDeps,
  tx: Executor,
  prepared: PreparedEvent,
  event: NormalizedEvent,
  target: Target,
): Promise<RunOutcome & { effects: unknown[] }> {
  const versionAt = event.entityVersionAt ?? event.occurredAt;
  if (target.kind === 'sync') {
    const plan = planLinearSync(event);
    if (plan.kind === 'none')
      return { status: 'skipped', matched: false, stage: 'sync', reason: plan.reason, effects: [] };
    const result = await applyLinearSync(
      {
        db: tx,
        store: deps.store,
        workspace: prepared.workspace,
        actingUserId: actingUser(prepared, target.link.createdByUserId),
        versionAt,
        dryRun: false,
      },
      {
        plan,
        containerId: target.link.containerId,
        ref: externalRefFor(event),
        organisationId: prepared.workspace.organisationId,
      },
    );
    if (result.stale)
      return {
        status: 'skipped',
        matched: true,
        stage: 'stale',
        reason: 'an update newer than this event was already applied',
        effects: [],
      };
    return { status: 'succeeded', matched: true, effects: result.effects };
  }
  const evaluation = evaluateRule(ruleOf(target.automation), event, {
    ownActorIds: deps.ownActorIds,
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
  const effects = await applyRuleActions(
    {
      db: tx,
      store: deps.store,
      workspace: prepared.workspace,
      actingUserId: actingUser(prepared, target.automation.createdByUserId),
      versionAt,
      dryRun: false,
    },
    evaluation.actions,
  );
  return { status: 'succeeded', matched: true, effects, warnings: evaluation.warnings };
}
