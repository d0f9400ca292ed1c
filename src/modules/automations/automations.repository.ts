import { and, desc, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { insertRows } from '../../db/json-rows.ts';
import { executeTogether } from '../../db/one-statement.ts';
import { fromExcluded } from '../../db/upsert.ts';
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

export interface RunClaim {
  inboxEventId: string;
  targetKey: string;
  kind: 'rule' | 'sync';
  automationId: string | null;
  containerId: string | null;
  workspace: Workspace;
  attempts: number;
}

export const runKeyOf = (run: { inboxEventId: string; targetKey: string }) =>
  `${run.inboxEventId}|${run.targetKey}`;

/**
 * The runs of these events that already succeeded (a replay, a duplicate, a lease taken over:
 * they are not run again). Read under the entities' advisory locks, so a worker that waited
 * for another one on the same event sees its committed runs.
 */
export async function listSucceededRuns(
  db: Executor,
  inboxEventIds: readonly string[],
): Promise<Set<string>> {
  if (inboxEventIds.length === 0) return new Set();
  const rows = await db
    .select({ inboxEventId: automationRuns.inboxEventId, targetKey: automationRuns.targetKey })
    .from(automationRuns)
    .where(
      and(
        inArray(automationRuns.inboxEventId, [...inboxEventIds]),
        eq(automationRuns.status, 'succeeded'),
      ),
    );
  return new Set(
    rows.flatMap((r) =>
      r.inboxEventId ? [runKeyOf({ inboxEventId: r.inboxEventId, targetKey: r.targetKey })] : [],
    ),
  );
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

/**
 * Writes the runs of a batch with their outcomes, in one statement, in the transaction of
 * their effects. A run that succeeded meanwhile is left as it is.
 */
export async function finishRuns(
  db: Executor,
  runs: ReadonlyArray<RunClaim & { outcome: RunOutcome }>,
  /** Data-modifying statements sent in the same statement, as CTEs (no extra round trip). */
  alongside: ReadonlyArray<SQL | undefined> = [],
): Promise<void> {
  await executeTogether(db, [...alongside, finishRunsStatement(db, runs)]);
}

function finishRunsStatement(
  db: Executor,
  runs: ReadonlyArray<RunClaim & { outcome: RunOutcome }>,
): SQL | undefined {
  if (runs.length === 0) return undefined;
  return insertRows(
    db,
    automationRuns,
    runs.map(({ outcome: o, ...run }) => ({
      inboxEventId: run.inboxEventId,
      targetKey: run.targetKey,
      kind: run.kind,
      automationId: run.automationId,
      containerId: run.containerId,
      organisationId: run.workspace.organisationId,
      userId: run.workspace.organisationId ? null : run.workspace.userId,
      attempts: run.attempts,
      status: o.status,
      matched: o.matched,
      stage: o.stage ?? null,
      reason: o.reason ?? null,
      failedCondition: o.failedCondition ?? null,
      effects: o.effects ?? [],
      warnings: o.warnings ?? [],
      error: o.error ?? null,
    })),
  )
    .onConflictDoUpdate({
      target: [automationRuns.inboxEventId, automationRuns.targetKey],
      set: {
        ...fromExcluded(automationRuns, [
          'attempts',
          'status',
          'matched',
          'stage',
          'reason',
          'failedCondition',
          'effects',
          'warnings',
          'error',
        ]),
        updatedAt: sql`now()`,
      },
      setWhere: sql`${automationRuns.status} <> 'succeeded'`,
    })
    .getSQL();
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
    containerId: string | null;
    /** The rule whose write-back mapping the push applied (Notion). */
    automationId?: string | null;
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
    automationId: input.automationId ?? null,
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

export async function upsertExternalItem(db: Executor, input: ExternalItemState): Promise<void> {
  await upsertExternalItems(db, [input]);
}

/** The items several external items became, locked for the rest of the transaction. */
export async function findExternalItemsForUpdate(
  db: Executor,
  keys: readonly ExternalItemKey[],
): Promise<ExternalItemRow[]> {
  if (keys.length === 0) return [];
  const wanted = keys.map((k) => ({
    workspace_key: k.workspaceKey,
    provider: k.provider,
    external_id: k.externalId,
    item_type: k.itemType,
    container_key: k.containerKey,
  }));
  return db
    .select()
    .from(externalItems)
    .where(
      sql`(${externalItems.workspaceKey}, ${externalItems.provider}, ${externalItems.externalId}, ${externalItems.itemType}, ${externalItems.containerKey})
        in (select * from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb)
          as k(workspace_key text, provider text, external_id text, item_type text, container_key text))`,
    )
    .for('update');
}

export type ExternalItemState = ExternalItemKey & {
  itemId: string | null;
  versionAt: number;
  removed: boolean;
  /** The rule whose action made the item (kept once set). */
  automationId?: string | null;
};

/** `upsertExternalItem` for many keys in one statement (each key at most once). */
export async function upsertExternalItems(
  db: Executor,
  items: readonly ExternalItemState[],
): Promise<void> {
  await executeTogether(db, [upsertExternalItemsStatement(db, items)]);
}

/** `upsertExternalItems`'s statement (undefined: nothing to write), to send with others. */
export function upsertExternalItemsStatement(
  db: Executor,
  items: readonly ExternalItemState[],
): SQL | undefined {
  if (items.length === 0) return undefined;
  return insertRows(
    db,
    externalItems,
    items.map(({ removed, ...item }) => ({ ...item, removedAt: removed ? sql`now()` : null })),
  )
    .onConflictDoUpdate({
      target: [
        externalItems.workspaceKey,
        externalItems.provider,
        externalItems.externalId,
        externalItems.itemType,
        externalItems.containerKey,
      ],
      set: {
        itemId: sql`excluded.item_id`,
        versionAt: sql`greatest(${externalItems.versionAt}, excluded.version_at)`,
        removedAt: sql`excluded.removed_at`,
        automationId: sql`coalesce(${externalItems.automationId}, excluded.automation_id)`,
        updatedAt: sql`now()`,
      },
    })
    .getSQL();
}

/**
 * The `monoid.sync_origin` a transaction is known to hold (set by the statement that opened
 * its work, see `lockEntities` in the processor), so that `withChangeOrigin` with that origin
 * costs no round trip. A transaction not in it is treated as holding no origin, as before.
 */
const knownOrigin = new WeakMap<Executor, string>();

/** `set_config` of the origin, as a select column: fold it into a statement already made. */
export function setOriginColumn(origin: string) {
  return sql`set_config('monoid.sync_origin', ${origin}, true)`;
}

/** Whether `tx` is known to hold `origin` (its writes need no `set_config` first). */
export function holdsOrigin(tx: Executor, origin: string): boolean {
  return knownOrigin.get(tx) === origin;
}

/** Records that `tx` holds `origin` (its statement selected `setOriginColumn(origin)`). */
export function rememberOrigin(tx: Executor, origin: string): void {
  knownOrigin.set(tx, origin);
}

/**
 * Runs writes with `monoid.sync_origin = <provider>` for the transaction: the two-way outbox
 * trigger does not push a change back to the provider it came from. Needs a transaction (the
 * setting is transaction-local); a plain pool is wrapped in one. Afterwards the transaction
 * holds the origin it held before (none, or the one remembered for it); when it already holds
 * `origin`, nothing is sent.
 */
export async function withChangeOrigin<T>(
  db: Executor,
  origin: string,
  fn: (tx: Executor) => Promise<T>,
): Promise<T> {
  if (!('rollback' in db)) return db.transaction((tx) => withChangeOrigin(tx, origin, fn));
  const before = knownOrigin.get(db);
  if (before === origin) return fn(db);
  await db.execute(sql`select ${setOriginColumn(origin)}`);
  knownOrigin.set(db, origin);
  const result = await fn(db);
  await db.execute(sql`select ${setOriginColumn(before ?? '')}`);
  if (before === undefined) knownOrigin.delete(db);
  else knownOrigin.set(db, before);
  return result;
}

/** The live tasks an external item became in the workspace, with the fields write-back reads. */
export async function listLinkedTaskValues(
  db: Executor,
  input: { workspace: Workspace; provider: ProviderId; externalId: string },
): Promise<
  Array<{
    id: string;
    title: string;
    bucket: string;
    doDate: string | null;
    dueDate: string | null;
  }>
> {
  const rows = (await db.execute(sql`
    select t.id, t.title, t.bucket, t.do_date, t.due_date
      from automation_external_items ei
      join tasks t on t.id = ei.item_id
     where ei.workspace_key = ${workspaceKeyOf(input.workspace)} and ei.provider = ${input.provider}
       and ei.external_id = ${input.externalId} and ei.item_type = 'task'
       and ei.removed_at is null
     order by t.id`)) as unknown as { rows: Array<Record<string, unknown>> };
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return rows.rows.map((r) => ({
    id: String(r.id),
    title: String(r.title),
    bucket: String(r.bucket),
    doDate: str(r.do_date),
    dueDate: str(r.due_date),
  }));
}
