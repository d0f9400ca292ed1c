import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import type { ProviderId } from '../integrations/integrations.table.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import {
  type AutomationRow,
  type AutomationRunRow,
  automationRuns,
  automations,
  type ExternalItemRow,
  externalItems,
  type RunStatus,
} from './automations.table.ts';

export function workspaceKeyOf(ws: Workspace): string {
  return ws.organisationId ? `org:${ws.organisationId}` : `user:${ws.userId ?? ''}`;
}

function inWorkspace(ws: Workspace) {
  return ws.organisationId
    ? eq(automations.organisationId, ws.organisationId)
    : and(isNull(automations.organisationId), eq(automations.userId, ws.userId ?? ''));
}

// ------------------------------------------------------------------ automations

export type AutomationInsert = typeof automations.$inferInsert;

export async function insertAutomation(db: Executor, values: AutomationInsert) {
  const [row] = await db.insert(automations).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function updateAutomationRow(
  db: Executor,
  input: { id: string; workspace: Workspace; values: Partial<AutomationInsert> },
): Promise<AutomationRow | undefined> {
  const [row] = await db
    .update(automations)
    .set({ ...input.values, updatedAt: sql`now()` })
    .where(and(eq(automations.id, input.id), inWorkspace(input.workspace)))
    .returning();
  return row;
}

export async function findAutomation(
  db: Executor,
  input: { id: string; workspace: Workspace },
): Promise<AutomationRow | undefined> {
  const [row] = await db
    .select()
    .from(automations)
    .where(and(eq(automations.id, input.id), inWorkspace(input.workspace)));
  return row;
}

export async function listAutomationRows(
  db: Executor,
  input: { workspace: Workspace; limit: number; offset: number },
): Promise<AutomationRow[]> {
  return db
    .select()
    .from(automations)
    .where(inWorkspace(input.workspace))
    .orderBy(desc(automations.updatedAt), automations.id)
    .limit(input.limit)
    .offset(input.offset);
}

export async function deleteAutomationRow(
  db: Executor,
  input: { id: string; workspace: Workspace },
): Promise<boolean> {
  const rows = await db
    .delete(automations)
    .where(and(eq(automations.id, input.id), inWorkspace(input.workspace)))
    .returning({ id: automations.id });
  return rows.length > 0;
}

/** Enabled rules of a workspace for one source and event (the worker's lookup). */
export async function listEnabledAutomations(
  db: Executor,
  input: { workspace: Workspace; source: ProviderId; event: string },
): Promise<AutomationRow[]> {
  return db
    .select()
    .from(automations)
    .where(
      and(
        inWorkspace(input.workspace),
        eq(automations.enabled, true),
        eq(automations.source, input.source),
        eq(automations.event, input.event),
      ),
    )
    .orderBy(automations.createdAt, automations.id);
}

// ------------------------------------------------------------------ runs

/**
 * Claims the run of (event, target) for this attempt. Returns false when the run already
 * succeeded (a replay or a duplicate: nothing happens twice). Inside the processing
 * transaction, the inserted or updated row stays locked until commit, so a concurrent
 * worker on the same event waits here and then sees the finished run.
 */
export async function claimRun(
  db: Executor,
  input: {
    inboxEventId: string;
    targetKey: string;
    kind: 'rule' | 'sync';
    automationId: string | null;
    containerId: string | null;
    workspace: Workspace;
    attempts: number;
  },
): Promise<boolean> {
  const rows = await db
    .insert(automationRuns)
    .values({
      inboxEventId: input.inboxEventId,
      targetKey: input.targetKey,
      kind: input.kind,
      automationId: input.automationId,
      containerId: input.containerId,
      organisationId: input.workspace.organisationId,
      userId: input.workspace.organisationId ? null : input.workspace.userId,
      status: 'failed',
      attempts: input.attempts,
    })
    .onConflictDoUpdate({
      target: [automationRuns.inboxEventId, automationRuns.targetKey],
      set: { attempts: input.attempts, updatedAt: sql`now()` },
      setWhere: sql`${automationRuns.status} <> 'succeeded'`,
    })
    .returning({ id: automationRuns.id });
  return rows.length > 0;
}

export interface RunOutcome {
  status: RunStatus;
  matched: boolean;
  stage?: string | null;
  reason?: string | null;
  failedCondition?: unknown;
  effects?: unknown[];
  warnings?: string[];
  error?: string | null;
}

export async function finishRun(
  db: Executor,
  input: { inboxEventId: string; targetKey: string; outcome: RunOutcome },
): Promise<void> {
  const o = input.outcome;
  await db
    .update(automationRuns)
    .set({
      status: o.status,
      matched: o.matched,
      stage: o.stage ?? null,
      reason: o.reason ?? null,
      failedCondition: o.failedCondition ?? null,
      effects: o.effects ?? [],
      warnings: o.warnings ?? [],
      error: o.error ?? null,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(automationRuns.inboxEventId, input.inboxEventId),
        eq(automationRuns.targetKey, input.targetKey),
      ),
    );
}

/** Records a failed attempt for a target (outside the rolled-back transaction). */
export async function recordRunFailure(
  db: Executor,
  input: {
    inboxEventId: string;
    targetKey: string;
    kind: 'rule' | 'sync';
    automationId: string | null;
    containerId: string | null;
    workspace: Workspace | null;
    attempts: number;
    status: 'failed' | 'dead';
    error: string;
  },
): Promise<void> {
  await db
    .insert(automationRuns)
    .values({
      inboxEventId: input.inboxEventId,
      targetKey: input.targetKey,
      kind: input.kind,
      automationId: input.automationId,
      containerId: input.containerId,
      organisationId: input.workspace?.organisationId ?? null,
      userId: input.workspace?.userId ?? null,
      status: input.status,
      attempts: input.attempts,
      error: input.error.slice(0, 2000),
    })
    .onConflictDoUpdate({
      target: [automationRuns.inboxEventId, automationRuns.targetKey],
      set: {
        status: input.status,
        attempts: input.attempts,
        error: input.error.slice(0, 2000),
        updatedAt: sql`now()`,
      },
      setWhere: sql`${automationRuns.status} <> 'succeeded'`,
    });
}

export async function listRuns(
  db: Executor,
  input: {
    workspace: Workspace;
    automationId?: string | undefined;
    inboxEventId?: string | undefined;
    status?: RunStatus | undefined;
    limit: number;
    offset: number;
  },
): Promise<AutomationRunRow[]> {
  const ws = input.workspace;
  const conditions = [
    ws.organisationId
      ? eq(automationRuns.organisationId, ws.organisationId)
      : and(isNull(automationRuns.organisationId), eq(automationRuns.userId, ws.userId ?? '')),
  ];
  if (input.automationId) conditions.push(eq(automationRuns.automationId, input.automationId));
  if (input.inboxEventId) conditions.push(eq(automationRuns.inboxEventId, input.inboxEventId));
  if (input.status) conditions.push(eq(automationRuns.status, input.status));
  return db
    .select()
    .from(automationRuns)
    .where(and(...conditions))
    .orderBy(desc(automationRuns.updatedAt), automationRuns.id)
    .limit(input.limit)
    .offset(input.offset);
}

/**
 * One outgoing push of the two-way sync (a provider call, or its failure), recorded in run
 * history next to the incoming events; it has no inbox event.
 */
export async function recordOutgoingRun(
  db: Executor,
  input: {
    provider: ProviderId;
    taskId: string;
    containerId: string;
    organisationId: string | null;
    userId: string | null;
    status: 'succeeded' | 'failed' | 'dead';
    fields: readonly string[];
    error: string | null;
    attempts: number;
  },
): Promise<void> {
  await db.insert(automationRuns).values({
    inboxEventId: null,
    targetKey: `${input.provider}:push:${input.taskId}`,
    kind: 'sync',
    direction: 'outgoing',
    containerId: input.containerId,
    organisationId: input.organisationId,
    userId: input.organisationId ? null : input.userId,
    status: input.status,
    matched: true,
    effects: [
      {
        action: `push_${input.provider}`,
        itemType: 'task',
        itemId: input.taskId,
        change: input.status === 'succeeded' ? 'updated' : 'not_updated',
        detail: input.fields.join(', '),
      },
    ],
    error: input.error,
    attempts: input.attempts,
  });
}

// ------------------------------------------------------------------ external items

export interface ExternalItemKey {
  workspaceKey: string;
  provider: ProviderId;
  externalId: string;
  itemType: 'task' | 'project' | 'container';
  containerKey: string;
}

/** The item an external item became (locked for the rest of the transaction). */
export async function findExternalItemForUpdate(
  db: Executor,
  key: ExternalItemKey,
): Promise<ExternalItemRow | undefined> {
  const [row] = await db
    .select()
    .from(externalItems)
    .where(
      and(
        eq(externalItems.workspaceKey, key.workspaceKey),
        eq(externalItems.provider, key.provider),
        eq(externalItems.externalId, key.externalId),
        eq(externalItems.itemType, key.itemType),
        eq(externalItems.containerKey, key.containerKey),
      ),
    )
    .for('update');
  return row;
}

export async function listExternalItems(
  db: Executor,
  input: Omit<ExternalItemKey, 'containerKey'>,
): Promise<ExternalItemRow[]> {
  return db
    .select()
    .from(externalItems)
    .where(
      and(
        eq(externalItems.workspaceKey, input.workspaceKey),
        eq(externalItems.provider, input.provider),
        eq(externalItems.externalId, input.externalId),
        eq(externalItems.itemType, input.itemType),
      ),
    );
}

export async function upsertExternalItem(
  db: Executor,
  input: ExternalItemKey & { itemId: string | null; versionAt: number; removed: boolean },
): Promise<void> {
  await db
    .insert(externalItems)
    .values({
      workspaceKey: input.workspaceKey,
      provider: input.provider,
      externalId: input.externalId,
      itemType: input.itemType,
      containerKey: input.containerKey,
      itemId: input.itemId,
      versionAt: input.versionAt,
      removedAt: input.removed ? sql`now()` : null,
    })
    .onConflictDoUpdate({
      target: [
        externalItems.workspaceKey,
        externalItems.provider,
        externalItems.externalId,
        externalItems.itemType,
        externalItems.containerKey,
      ],
      set: {
        itemId: input.itemId,
        versionAt: sql`greatest(${externalItems.versionAt}, ${input.versionAt})`,
        removedAt: input.removed ? sql`now()` : null,
        updatedAt: sql`now()`,
      },
    });
}
