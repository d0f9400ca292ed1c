import type { Db } from '../../db/database.ts';
import { notFound, validationError } from '../../http/errors.ts';
import {
  findInboxEvent,
  listInboxEventsOfConnections,
  requeueInboxEvents,
} from '../inbox/inbox.repository.ts';
import type { InboxEventRow } from '../inbox/inbox.table.ts';
import { listWorkspaceConnectionIds } from '../integrations/integrations.repository.ts';
import { recordRequested, type SecurityContext } from '../security-log/security-log.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import { applyActions } from './actions/registry.ts';
import { type AutomationDefinition, validateDefinition } from './automation.definition.ts';
import type { Effect, ItemStore } from './automation.effects.ts';
import type { NormalizedEvent } from './automation.event.ts';
import { ruleOf } from './automation.processor.ts';
import { evaluateRule } from './automation.rules.ts';
import type { EventSource, EventSources } from './automation.sources.ts';
import { pagePropertiesFor } from './automation.write-back.ts';
import {
  deleteAutomationRow,
  findAutomation,
  insertAutomation,
  listAutomationRows,
  listLinkedTaskValues,
  listRuns,
  updateAutomationRow,
} from './automations.repository.ts';
import type { AutomationCreate, AutomationDto, AutomationUpdate } from './automations.schemas.ts';
import type { AutomationRow, AutomationRunRow, RunStatus } from './automations.table.ts';

/** A provider's backfills of linked containers, as the settings page lists them. */
export interface BackfillView {
  id: string;
  containerId: string;
  teamId: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  phase: 'projects' | 'issues';
  pages: number;
  items: number;
  attempts: number;
  lastError: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

export interface AutomationsDeps {
  db: Db;
  store: ItemStore;
  /** Every provider's event source (the registry's, injected by app.ts). */
  sources: EventSources;
  /** Backfills of the given connections (a provider's; none: []). */
  listBackfills(connectionIds: readonly string[]): Promise<BackfillView[]>;
  ownActorIds: readonly string[];
  log: { warn(obj: object, msg: string): void };
}

function toDto(row: AutomationRow): AutomationDto {
  const rule = ruleOf(row);
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    trigger: { ...rule.trigger, scope: rule.trigger.scope ?? {} },
    conditions: row.conditions ?? null,
    actions: rule.actions,
    sync: rule.sync,
    writeBack: rule.writeBack,
    organisationId: row.organisationId,
    createdAt: row.createdAt.getTime(),
    updatedAt: row.updatedAt.getTime(),
  };
}

/** Validates a definition; 400 VALIDATION_ERROR with every problem in `errors[]`. */
function checkedDefinition(
  deps: AutomationsDeps,
  definition: AutomationDefinition,
): { conditions: unknown } {
  const { conditions, errors } = validateDefinition(definition, deps.sources.list);
  if (errors.length > 0) throw validationError('The automation is not valid', errors);
  return { conditions };
}

const ruleReason = (id: string) => `automation:${id}`;

/** The provider webhook an enabled rule needs (a Linear team's), and whose source it is. */
function webhookNeedOf(
  deps: AutomationsDeps,
  row: AutomationRow | undefined,
): { source: EventSource; need: string } | null {
  if (!row?.enabled) return null;
  const source = deps.sources.get(row.source);
  const need = source?.webhookNeedOf?.(ruleOf(row).trigger.scope) ?? null;
  return source && need ? { source, need } : null;
}

/**
 * Keeps the provider webhook registrations in step with a rule that changed from `before`
 * to `after` (undefined: created / deleted). After the commit: a provider call never holds
 * a transaction open; a failure leaves the registration to the Integrations reconciler and
 * the rule is saved all the same.
 */
async function syncWebhookNeed(
  deps: AutomationsDeps,
  ws: Workspace,
  id: string,
  before: AutomationRow | undefined,
  after: AutomationRow | undefined,
) {
  const oldNeed = webhookNeedOf(deps, before);
  const newNeed = webhookNeedOf(deps, after);
  if (oldNeed?.source === newNeed?.source && oldNeed?.need === newNeed?.need) return;
  const reason = ruleReason(id);
  try {
    if (newNeed)
      await newNeed.source.acquireWebhook?.({ workspace: ws, need: newNeed.need, reason });
    if (oldNeed)
      await oldNeed.source.releaseWebhook?.({ workspace: ws, need: oldNeed.need, reason });
  } catch (err) {
    deps.log.warn({ err, automationId: id }, 'automation webhook registration failed');
  }
}

export async function createAutomation(
  deps: AutomationsDeps,
  input: { workspace: Workspace; userId: string; body: AutomationCreate; audit?: SecurityContext },
): Promise<AutomationDto> {
  const { body, workspace } = input;
  const { conditions } = checkedDefinition(deps, body);
  const row = await deps.db.transaction(async (tx) => {
    const inserted = await insertAutomation(tx, {
      organisationId: workspace.organisationId,
      userId: workspace.organisationId ? null : workspace.userId,
      name: body.name,
      description: body.description ?? null,
      enabled: body.enabled,
      source: body.trigger.source,
      event: body.trigger.event,
      scope: body.trigger.scope,
      conditions,
      actions: body.actions,
      sync: body.sync ?? 'from_provider',
      writeBack: body.writeBack ?? null,
      createdByUserId: input.userId,
    });
    await recordRequested(tx, input.audit, {
      action: 'automation.created',
      target: { type: 'automation', id: inserted.id },
      organisationId: workspace.organisationId,
      details: { name: inserted.name },
    });
    return inserted;
  });
  await syncWebhookNeed(deps, workspace, row.id, undefined, row);
  return toDto(row);
}

async function loadRow(db: Db, workspace: Workspace, id: string): Promise<AutomationRow> {
  const row = await findAutomation(db, { id, workspace });
  if (!row) throw notFound('Automation');
  return row;
}

export async function getAutomation(deps: AutomationsDeps, workspace: Workspace, id: string) {
  return toDto(await loadRow(deps.db, workspace, id));
}

export async function listAutomations(
  deps: AutomationsDeps,
  input: { workspace: Workspace; limit: number; offset: number },
) {
  return (await listAutomationRows(deps.db, input)).map(toDto);
}

export async function updateAutomation(
  deps: AutomationsDeps,
  input: { workspace: Workspace; id: string; body: AutomationUpdate; audit?: SecurityContext },
): Promise<AutomationDto> {
  const current = await loadRow(deps.db, input.workspace, input.id);
  const rule = ruleOf(current);
  const { body } = input;
  const definition: AutomationDefinition = {
    trigger: body.trigger ?? rule.trigger,
    conditions: body.conditions !== undefined ? body.conditions : rule.conditions,
    actions: body.actions ?? rule.actions,
    sync: body.sync ?? rule.sync,
    writeBack: body.writeBack !== undefined ? body.writeBack : rule.writeBack,
  };
  const { conditions } = checkedDefinition(deps, definition);
  const row = await deps.db.transaction(async (tx) => {
    const updated = await updateAutomationRow(tx, {
      id: input.id,
      workspace: input.workspace,
      values: {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.description !== undefined ? { description: body.description } : {}),
        ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        source: definition.trigger.source,
        event: definition.trigger.event,
        scope: definition.trigger.scope,
        conditions,
        actions: definition.actions,
        sync: definition.sync ?? 'from_provider',
        writeBack: definition.writeBack ?? null,
      },
    });
    if (updated)
      await recordRequested(tx, input.audit, {
        action: 'automation.updated',
        target: { type: 'automation', id: updated.id },
        organisationId: input.workspace.organisationId,
        details: { name: updated.name },
      });
    return updated;
  });
  if (!row) throw notFound('Automation');
  await syncWebhookNeed(deps, input.workspace, row.id, current, row);
  return toDto(row);
}

export async function setAutomationEnabled(
  deps: AutomationsDeps,
  input: { workspace: Workspace; id: string; enabled: boolean; audit?: SecurityContext },
): Promise<AutomationDto> {
  const current = await loadRow(deps.db, input.workspace, input.id);
  const row = await deps.db.transaction(async (tx) => {
    const updated = await updateAutomationRow(tx, {
      id: input.id,
      workspace: input.workspace,
      values: { enabled: input.enabled },
    });
    if (updated)
      await recordRequested(tx, input.audit, {
        action: 'automation.updated',
        target: { type: 'automation', id: updated.id },
        organisationId: input.workspace.organisationId,
        details: { name: updated.name, enabled: input.enabled },
      });
    return updated;
  });
  if (!row) throw notFound('Automation');
  await syncWebhookNeed(deps, input.workspace, row.id, current, row);
  return toDto(row);
}

export async function deleteAutomation(
  deps: AutomationsDeps,
  input: { workspace: Workspace; id: string; audit?: SecurityContext },
): Promise<void> {
  const current = await loadRow(deps.db, input.workspace, input.id);
  const deleted = await deps.db.transaction(async (tx) => {
    const gone = await deleteAutomationRow(tx, input);
    if (gone)
      await recordRequested(tx, input.audit, {
        action: 'automation.deleted',
        target: { type: 'automation', id: input.id },
        organisationId: input.workspace.organisationId,
        details: { name: current.name },
      });
    return gone;
  });
  if (!deleted) throw notFound('Automation');
  await syncWebhookNeed(deps, input.workspace, input.id, current, undefined);
}

// ------------------------------------------------------------------ dry run

export interface DryRunInput {
  workspace: Workspace;
  userId: string;
  inboxEventId?: string | undefined;
  payload?: Record<string, unknown> | undefined;
  page?: Record<string, unknown> | null | undefined;
}

async function workspaceInboxEvent(
  db: Db,
  workspace: Workspace,
  id: string,
): Promise<InboxEventRow> {
  const connections = await listWorkspaceConnectionIds(db, workspace);
  const row = await findInboxEvent(db, id);
  if (!row || !connections.includes(row.connectionId)) throw notFound('Event');
  return row;
}

async function eventForDryRun(
  deps: AutomationsDeps,
  source: EventSource,
  input: DryRunInput,
): Promise<NormalizedEvent | null> {
  if (input.inboxEventId) {
    const row = await workspaceInboxEvent(deps.db, input.workspace, input.inboxEventId);
    return source.normalizeStored(
      row,
      input.page !== undefined ? { document: input.page } : undefined,
    );
  }
  return source.normalize(input.payload, input.page ?? null);
}

class DryRunRollback extends Error {}

/**
 * Evaluates a rule against a stored event or a sample payload with the worker's own code,
 * and reports what applying it would do. Nothing is written: the actions run in dry mode,
 * inside a transaction that is always rolled back.
 */
export async function dryRun(
  deps: AutomationsDeps,
  input: DryRunInput & { rule: ReturnType<typeof ruleOf> },
) {
  const source = deps.sources.get(input.rule.trigger.source);
  const event = source ? await eventForDryRun(deps, source, input) : null;
  if (!source || !event)
    throw validationError('The event is not one the automation engine understands', [
      {
        path: input.payload ? 'payload' : 'inboxEventId',
        message: 'unsupported or malformed event',
      },
    ]);
  const evaluation = evaluateRule(input.rule, event, { ownActorIds: deps.ownActorIds, source });
  let effects: Effect[] = [];
  if (evaluation.matched) {
    try {
      await deps.db.transaction(async (tx) => {
        effects = await applyActions(
          {
            db: tx,
            store: deps.store,
            workspace: input.workspace,
            actingUserId: input.userId,
            versionAt: event.entityVersionAt ?? event.occurredAt,
            dryRun: true,
          },
          evaluation.actions,
        );
        throw new DryRunRollback();
      });
    } catch (err) {
      if (!(err instanceof DryRunRollback)) throw err;
    }
  }
  return {
    matched: evaluation.matched,
    stage: evaluation.stage,
    reason: evaluation.reason,
    failedCondition: evaluation.failedCondition,
    warnings: evaluation.warnings,
    actions: evaluation.actions,
    effects,
    pushes: await plannedPushes(deps.db, input.workspace, input.rule, event),
    event: event.fields,
  };
}

/**
 * What write-back would send to the event's page: for a `two_way` rule, the properties its
 * mapping gives for each task the page became (their current values).
 */
async function plannedPushes(
  db: Db,
  workspace: Workspace,
  rule: ReturnType<typeof ruleOf>,
  event: NormalizedEvent,
) {
  if (rule.sync !== 'two_way' || !rule.writeBack?.length) return [];
  const mapping = rule.writeBack;
  const tasks = await listLinkedTaskValues(db, {
    workspace,
    provider: event.ref.provider,
    externalId: event.ref.externalId,
  });
  return tasks.map((task) => ({
    provider: event.ref.provider,
    externalId: event.ref.externalId,
    itemId: task.id,
    properties: pagePropertiesFor(mapping, task),
  }));
}

export async function dryRunSaved(deps: AutomationsDeps, input: DryRunInput & { id: string }) {
  const row = await loadRow(deps.db, input.workspace, input.id);
  return dryRun(deps, { ...input, rule: ruleOf(row) });
}

export async function dryRunDefinition(
  deps: AutomationsDeps,
  input: DryRunInput & { definition: AutomationDefinition },
) {
  const { conditions } = checkedDefinition(deps, input.definition);
  const { definition } = input;
  return dryRun(deps, {
    ...input,
    rule: {
      ...definition,
      conditions,
      sync: definition.sync ?? 'from_provider',
      writeBack: definition.writeBack ?? null,
    },
  });
}

// ------------------------------------------------------------------ history and tools

function runDto(r: AutomationRunRow) {
  return {
    id: r.id,
    inboxEventId: r.inboxEventId,
    kind: r.kind,
    direction: r.direction,
    automationId: r.automationId,
    containerId: r.containerId,
    status: r.status,
    matched: r.matched,
    stage: r.stage,
    reason: r.reason,
    failedCondition: r.failedCondition ?? null,
    effects: (r.effects ?? []) as Effect[],
    warnings: (r.warnings ?? []) as string[],
    error: r.error,
    attempts: r.attempts,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
  };
}

export async function listRunHistory(
  deps: AutomationsDeps,
  input: {
    workspace: Workspace;
    automationId?: string | undefined;
    inboxEventId?: string | undefined;
    status?: RunStatus | undefined;
    limit: number;
    offset: number;
  },
) {
  if (input.automationId) await loadRow(deps.db, input.workspace, input.automationId);
  return (await listRuns(deps.db, input)).map(runDto);
}

function inboxDto(r: InboxEventRow) {
  return {
    id: r.id,
    provider: r.provider,
    eventType: r.eventType,
    entityType: r.entityType,
    entityId: r.entityId,
    state: r.state,
    attempts: r.attempts,
    lastError: r.lastError,
    receivedAt: r.receivedAt.getTime(),
    processedAt: r.processedAt?.getTime() ?? null,
  };
}

export async function listWorkspaceEvents(
  deps: AutomationsDeps,
  input: {
    workspace: Workspace;
    state?: InboxEventRow['state'] | undefined;
    limit: number;
    offset: number;
  },
) {
  const connectionIds = await listWorkspaceConnectionIds(deps.db, input.workspace);
  const rows = await listInboxEventsOfConnections(deps.db, { ...input, connectionIds });
  return rows.map(inboxDto);
}

/**
 * Replay: puts dead-lettered (or selected) events of the workspace back in the queue. Runs
 * that already succeeded are not repeated (their run record is final), so a replay only
 * re-runs what failed or did not match.
 */
export async function replayEvents(
  deps: AutomationsDeps,
  input: {
    workspace: Workspace;
    eventIds?: string[] | undefined;
    deadLettered?: boolean | undefined;
    audit?: SecurityContext;
  },
): Promise<string[]> {
  const connectionIds = await listWorkspaceConnectionIds(deps.db, input.workspace);
  const ids = new Set<string>();
  for (const id of input.eventIds ?? []) {
    const row = await findInboxEvent(deps.db, id);
    if (!row || !connectionIds.includes(row.connectionId)) throw notFound('Event');
    ids.add(id);
  }
  if (input.deadLettered) {
    for (let offset = 0; ; offset += 500) {
      const rows = await listInboxEventsOfConnections(deps.db, {
        connectionIds,
        state: 'failed',
        limit: 500,
        offset,
      });
      for (const r of rows) ids.add(r.id);
      if (rows.length < 500) break;
    }
  }
  return deps.db.transaction(async (tx) => {
    const requeued = await requeueInboxEvents(tx, [...ids]);
    await recordRequested(tx, input.audit, {
      action: 'replay.requested',
      target: {
        type: 'delivery',
        id: input.deadLettered ? 'dead-lettered' : [...ids].join(',').slice(0, 200),
      },
      organisationId: input.workspace.organisationId,
      details: { requeued: requeued.length },
    });
    return requeued;
  });
}

export async function listBackfills(deps: AutomationsDeps, workspace: Workspace) {
  return deps.listBackfills(await listWorkspaceConnectionIds(deps.db, workspace));
}
