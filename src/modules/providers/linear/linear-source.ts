import type { SQL } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import type { EffectContext } from '../../automations/automation.effects.ts';
import type { NormalizedEvent } from '../../automations/automation.event.ts';
import type { EventSourceDefinition } from '../../automations/automation.source.ts';
import type {
  EventSource,
  SyncOutcome,
  SyncRun,
  SyncTarget,
} from '../../automations/automation.sources.ts';
import { cached } from '../../inbox/inbox.worker.ts';
import { findWorkspaceConnectionId } from '../../integrations/integrations.repository.ts';
import { LINEAR } from './linear.id.ts';
import { listTeamLinks } from './linear.repository.ts';
import type { LinearTeamLinkRow } from './linear.table.ts';
import { linearTriggerEvents, normalizeLinearEvent } from './linear-event.ts';
import { planLinearSync, type SyncPlan } from './linear-sync.mapping.ts';
import { applyLinearSync, type SyncResult } from './linear-sync.ts';
import { applyLinearSyncBatch } from './linear-sync-batch.ts';
import type { LinearWebhookService } from './linear-webhooks.service.ts';

/** Linear as a source of rule triggers (pure: validation and normalizing). */
export const linearEventSource: EventSourceDefinition = {
  id: LINEAR,
  triggerEvents: linearTriggerEvents,
  checkScope(scope) {
    if (scope.databaseId || scope.parentPageId)
      return [{ path: 'trigger.scope', message: 'a Linear trigger is scoped by teamId only' }];
    if (!scope.teamId)
      return [
        {
          path: 'trigger.scope.teamId',
          message: 'a Linear rule names the team whose webhook it needs',
        },
      ];
    return [];
  },
  scopeMatches(scope, event) {
    return !scope.teamId || event.scope.teamIds.includes(scope.teamId);
  },
  normalize: (payload) => normalizeLinearEvent(payload),
  webhookNeedOf: (scope) => scope.teamId ?? null,
};

/** The built-in sync of one linked container, as a run target. */
export function linearSyncTarget(link: LinearTeamLinkRow): SyncTarget {
  return {
    key: `sync:${link.containerId}`,
    containerId: link.containerId,
    createdByUserId: link.createdByUserId,
    run: (ctx, event) => runLinearSync(ctx, link.containerId, event),
  };
}

export async function runLinearSync(
  ctx: EffectContext,
  containerId: string,
  event: NormalizedEvent,
): Promise<SyncOutcome> {
  const plan = planLinearSync(event);
  if (plan.kind === 'none') return outcomeOf(plan, { effects: [], stale: false });
  const result = await applyLinearSync(ctx, {
    plan,
    containerId,
    ref: event.ref,
    organisationId: ctx.workspace.organisationId,
  });
  return outcomeOf(plan, result);
}

/** The batch's syncs through the set-based path (`applyLinearSyncBatch`). */
export async function runLinearSyncBatch(
  db: Executor,
  runs: readonly SyncRun[],
  defer?: (writes: readonly SQL[]) => void,
): Promise<SyncOutcome[]> {
  const plans = runs.map((run) => planLinearSync(run.event));
  const store = runs[0]?.ctx.store;
  const syncing = runs.flatMap((run, i) => {
    const plan = plans[i];
    return plan && plan.kind !== 'none' ? [{ run, plan }] : [];
  });
  const results =
    store && syncing.length > 0
      ? await applyLinearSyncBatch(db, {
          store,
          defer,
          items: syncing.map(({ run, plan }) => ({
            plan,
            ref: run.event.ref,
            versionAt: run.ctx.versionAt,
            containerId: run.target.containerId,
            workspace: run.ctx.workspace,
            actingUserId: run.ctx.actingUserId,
          })),
        })
      : [];
  let next = 0;
  return plans.map((plan) =>
    outcomeOf(
      plan ?? { kind: 'none', reason: 'no plan' },
      plan && plan.kind !== 'none'
        ? (results[next++] ?? { effects: [], stale: false })
        : { effects: [], stale: false },
    ),
  );
}

function outcomeOf(plan: SyncPlan, result: SyncResult): SyncOutcome {
  if (plan.kind === 'none')
    return { status: 'skipped', matched: false, stage: 'sync', reason: plan.reason, effects: [] };
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

/** Linear as the engine sees it at run time: links to sync, webhooks rules need. */
export function createLinearEventSource(deps: {
  db: Executor;
  /** Absent: rules' webhooks are not registered from here (a worker-only process). */
  webhooks?: LinearWebhookService;
}): EventSource {
  const connectionOf = (workspace: Parameters<typeof findWorkspaceConnectionId>[1]) =>
    findWorkspaceConnectionId(deps.db, workspace, LINEAR);
  return {
    ...linearEventSource,
    async normalizeStored(row) {
      return normalizeLinearEvent(row.payload);
    },
    runSyncBatch: runLinearSyncBatch,
    async syncTargets({ db, row, event, cache }) {
      if (event.entityType !== 'issue' && event.entityType !== 'project') return [];
      const teamIds =
        event.scope.teamIds.length > 0 ? event.scope.teamIds : row.teamId ? [row.teamId] : [];
      const links = await cached(cache, `links:${row.connectionId}:${teamIds.join(',')}`, () =>
        listTeamLinks(db, { connectionId: row.connectionId, teamIds }),
      );
      return links.map(linearSyncTarget);
    },
    // A rule's need is `automation:<id>` on the team's webhook of the workspace's Linear
    // connection. Without a connection there is nothing to register (the rule waits).
    async acquireWebhook({ workspace, need, reason }) {
      const connectionId = await connectionOf(workspace);
      if (connectionId) await deps.webhooks?.ensure({ connectionId, teamId: need, reason });
    },
    async releaseWebhook({ workspace, need, reason }) {
      const connectionId = await connectionOf(workspace);
      if (connectionId) await deps.webhooks?.release({ connectionId, teamId: need, reason });
    },
  };
}
