import { randomUUID } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import { executeTogether } from '../../../db/one-statement.ts';
import type { Effect, ItemStore } from '../../automations/automation.effects.ts';
import type { ExternalRef } from '../../automations/automation.event.ts';
import {
  type ExternalItemKey,
  type ExternalItemState,
  findExternalItemsForUpdate,
  upsertExternalItemsStatement,
  workspaceKeyOf,
} from '../../automations/automations.repository.ts';
import type { ContainerRow } from '../../containers/containers.table.ts';
import {
  type LinkUpsert,
  upsertLinksStatement,
} from '../../external-links/external-links.repository.ts';
import { findMemberIdsByEmails } from '../../identity/identity.repository.ts';
import {
  type Actor,
  findContainerVisibleToUser,
  findVisibleProject,
  loadActor,
} from '../../planning/planning.services.ts';
import {
  findTaskRowsForUpdate,
  insertTaskRowsStatement,
  updateSyncedTaskRowsStatement,
} from '../../tasks/tasks.repository.ts';
import type { TaskRow } from '../../tasks/tasks.table.ts';
import type { Workspace } from '../../workspaces/workspace.context.ts';
import {
  holdsSyncOrigin,
  listTasksWithPendingChanges,
  withSyncOrigin,
} from './linear-outbox.repository.ts';
import type { SyncPlan } from './linear-sync.mapping.ts';
import { applySync, type SyncResult } from './linear-sync.ts';

/** One Linear change for one linked container, as the batched sync takes it. */
export interface LinearSyncItem {
  plan: SyncPlan;
  ref: ExternalRef;
  /** Provider version of the entity (ms): older than what is stored → stale. */
  versionAt: number;
  containerId: string;
  workspace: Workspace;
  /** The user items are created as (the link's author, else the connection's owner). */
  actingUserId: string;
}

type TaskPlan = Extract<SyncPlan, { kind: 'upsert_task' | 'remove_task' }>;
type TaskItem = { index: number; item: LinearSyncItem; plan: TaskPlan; key: ExternalItemKey };

interface StoredItem {
  itemId: string | null;
  versionAt: number;
  pushedVersionAt: number | null;
  removed: boolean;
}

/** One issue in one container while the batch is worked out in memory. */
interface EntityState {
  key: ExternalItemKey;
  item: StoredItem | undefined;
  task: TaskRow | undefined;
  /** The row is new in this batch (inserted), else `changed` rows are updated. */
  created: boolean;
  changed: boolean;
  /** The external item's state is written back. */
  touched: boolean;
  link: LinkUpsert | undefined;
}

const keyId = (k: ExternalItemKey) =>
  `${k.workspaceKey}|${k.provider}|${k.externalId}|${k.itemType}|${k.containerKey}`;

function keyOf(item: LinearSyncItem, externalId: string, itemType: 'task' | 'project') {
  return {
    workspaceKey: workspaceKeyOf(item.workspace),
    provider: item.ref.provider,
    externalId,
    itemType,
    containerKey: item.containerId,
  } satisfies ExternalItemKey;
}

function memo<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let hit = map.get(key);
  if (!hit) {
    hit = load();
    map.set(key, hit);
  }
  return hit;
}

/**
 * The Linear sync of many changes at once, in the caller's transaction (which holds the
 * entities' advisory locks): the same end state as `applyLinearSync` called for each item in
 * order (stale versions skipped, one task per issue per container, removal = cancel), with
 * the reads done once per batch and the writes as multi-row statements. Issue changes take
 * the set-based path; Linear projects, and any issue whose case the set-based path does not
 * cover (a local change waiting to be pushed, a task moved elsewhere by a user, a project
 * changed in the same batch, an acting user who is no longer a member...), go through
 * `applyLinearSync` one at a time, in order, after it. The webhook worker and the backfill
 * both call this.
 */
export async function applyLinearSyncBatch(
  db: Executor,
  input: {
    store: ItemStore;
    items: readonly LinearSyncItem[];
    /** Takes the set-based writes when they are the batch's last (`runSyncBatch`'s). */
    defer?: (writes: readonly SQL[]) => void;
  },
): Promise<SyncResult[]> {
  if (input.items.length === 0) return [];
  return withSyncOrigin(db, (tx) => applyBatch(tx, input));
}

async function applyBatch(
  tx: Executor,
  { store, items, defer }: Parameters<typeof applyLinearSyncBatch>[1],
): Promise<SyncResult[]> {
  const results = new Map<number, SyncResult>();
  const projectsChanging = new Set<string>();
  for (const item of items)
    if (item.plan.kind === 'upsert_project' || item.plan.kind === 'remove_project')
      projectsChanging.add(keyId(keyOf(item, item.plan.externalId, 'project')));
  const taskItems: TaskItem[] = [];
  const perEvent = new Set<string>();
  const projectKeys = new Map<string, ExternalItemKey>();
  for (const [index, item] of items.entries()) {
    const plan = item.plan;
    if (plan.kind !== 'upsert_task' && plan.kind !== 'remove_task') continue;
    const key = keyOf(item, plan.externalId, 'task');
    taskItems.push({ index, item, plan, key });
    const projectId = plan.kind === 'upsert_task' ? plan.fields.linearProjectId : null;
    if (!projectId) continue;
    const projectKey = keyOf(item, projectId, 'project');
    // The project's own change in this batch decides which task sees it: keep the order.
    if (projectsChanging.has(keyId(projectKey))) perEvent.add(keyId(key));
    projectKeys.set(keyId(projectKey), projectKey);
  }

  if (taskItems.length > 0) {
    const taskKeys = new Map(taskItems.map((t) => [keyId(t.key), t.key]));
    const stored = new Map(
      (await findExternalItemsForUpdate(tx, [...taskKeys.values(), ...projectKeys.values()])).map(
        (row) => [keyId(row), row],
      ),
    );
    const taskIds = [...taskKeys.keys()].flatMap((k) => {
      const id = stored.get(k)?.itemId;
      return id ? [id] : [];
    });
    const rows = new Map((await findTaskRowsForUpdate(tx, taskIds)).map((r) => [r.id, r]));
    const withLocalChanges = await listTasksWithPendingChanges(tx, taskIds);

    const actors = new Map<string, Promise<Actor>>();
    const containers = new Map<string, Promise<ContainerRow | undefined>>();
    const projects = new Map<string, Promise<{ containerId: string } | undefined>>();
    const actorOf = (userId: string) => memo(actors, userId, () => loadActor(tx, userId));
    const projectItemOf = (t: TaskItem): string | null => {
      if (t.plan.kind !== 'upsert_task' || !t.plan.fields.linearProjectId) return null;
      const project = stored.get(keyId(keyOf(t.item, t.plan.fields.linearProjectId, 'project')));
      return project?.removedAt ? null : (project?.itemId ?? null);
    };

    // What the set-based path covers; anything else keeps the per-event path's exact rules.
    const resolved = new Map<string, ContainerRow>();
    for (const t of taskItems) {
      const id = keyId(t.key);
      if (perEvent.has(id)) continue;
      const userId = t.item.actingUserId;
      const org = t.item.workspace.organisationId;
      // Visible to the acting user and in the event's workspace: the user is a live member of
      // the organisation (checked in the same statement as the read).
      const container = await memo(containers, `${userId}|${t.item.containerId}`, () =>
        findContainerVisibleToUser(tx, userId, t.item.containerId),
      );
      const projectItem = projectItemOf(t);
      const project = projectItem
        ? await memo(projects, `${userId}|${projectItem}`, async () =>
            findVisibleProject(tx, await actorOf(userId), projectItem),
          )
        : undefined;
      const taskId = stored.get(id)?.itemId;
      const row = taskId ? rows.get(taskId) : undefined;
      const covered =
        container !== undefined &&
        container.organisationId === org &&
        (!projectItem || project?.containerId === t.item.containerId) &&
        (!row ||
          (!withLocalChanges.has(row.id) &&
            row.containerId === t.item.containerId &&
            row.workspaceId === container.workspaceId));
      if (covered) resolved.set(id, container);
      else perEvent.add(id);
    }
    for (const id of perEvent) resolved.delete(id);

    const emailsByOrg = new Map<string, Set<string>>();
    for (const t of taskItems) {
      const org = t.item.workspace.organisationId;
      if (!resolved.has(keyId(t.key)) || !org || t.plan.kind !== 'upsert_task') continue;
      const email = t.plan.fields.assigneeEmail;
      if (email) emailsByOrg.set(org, (emailsByOrg.get(org) ?? new Set()).add(email));
    }
    const members = new Map<string, Map<string, string>>();
    for (const [organisationId, emails] of emailsByOrg)
      members.set(
        organisationId,
        await findMemberIdsByEmails(tx, { organisationId, emails: [...emails] }),
      );

    const now = Date.now();
    const states = new Map<string, EntityState>();
    for (const t of taskItems) {
      const id = keyId(t.key);
      const container = resolved.get(id);
      if (!container) continue;
      let s = states.get(id);
      if (!s) {
        const row = stored.get(id);
        s = {
          key: t.key,
          item: row && {
            itemId: row.itemId,
            versionAt: row.versionAt,
            pushedVersionAt: row.pushedVersionAt,
            removed: row.removedAt !== null,
          },
          task: row?.itemId ? rows.get(row.itemId) : undefined,
          created: false,
          changed: false,
          touched: false,
          link: undefined,
        };
        states.set(id, s);
      }
      const v = t.item.versionAt;
      // Older than what is stored, or the echo of the server's own push (two-way sync).
      if (s.item && (v < s.item.versionAt || v === s.item.pushedVersionAt)) {
        results.set(t.index, { effects: [], stale: true });
        continue;
      }
      const effects: Effect[] = [];
      const action = `sync.${t.plan.kind}`;
      const existingId = s.item?.itemId ?? null;
      if (t.plan.kind === 'remove_task') {
        if (existingId && s.task) {
          s.task = { ...s.task, bucket: 'cancelled', doneAt: null, updatedAt: now };
          s.changed = !s.created;
        }
        if (existingId)
          effects.push({
            action,
            itemType: 'task',
            itemId: existingId,
            change: s.task ? 'cancelled' : 'not_found',
          });
      } else {
        const f = t.plan.fields;
        const org = t.item.workspace.organisationId;
        const synced = {
          title: f.title,
          notes: f.notes,
          bucket: f.bucket,
          dueDate: f.dueDate,
          projectId: projectItemOf(t),
          assigneeId:
            org && f.assigneeEmail ? (members.get(org)?.get(f.assigneeEmail) ?? null) : null,
          updatedAt: now,
        };
        if (existingId && s.task) {
          const wasDone = s.task.bucket === 'done' ? s.task.doneAt : null;
          s.task = { ...s.task, ...synced, doneAt: f.bucket === 'done' ? (wasDone ?? now) : null };
          s.changed = !s.created;
          effects.push({
            action,
            itemType: 'task',
            itemId: existingId,
            change: 'updated',
            detail: f.title,
          });
        } else {
          const taskId = randomUUID();
          s.task = {
            ...synced,
            id: taskId,
            userId: t.item.actingUserId,
            organisationId: container.organisationId,
            workspaceId: container.workspaceId,
            containerId: t.item.containerId,
            doneAt: f.bucket === 'done' ? now : null,
            categoryId: null,
            inboxTriage: null,
            routineBlockId: null,
            doDate: null,
            doEndDate: null,
            scheduledAt: null,
            labelIds: [],
            createdAt: now,
          };
          s.created = true;
          s.changed = false;
          s.link = {
            provider: 'linear',
            externalId: t.plan.externalId,
            url: t.item.ref.url,
            title: f.title,
            entityType: 'task',
            entityId: taskId,
            containerId: t.item.containerId,
            now,
          };
          effects.push({
            action,
            itemType: 'task',
            itemId: taskId,
            change: 'created',
            detail: f.title,
          });
        }
      }
      s.item = {
        itemId: t.plan.kind === 'remove_task' ? existingId : (s.task?.id ?? null),
        versionAt: Math.max(s.item?.versionAt ?? v, v),
        pushedVersionAt: s.item?.pushedVersionAt ?? null,
        removed: t.plan.kind === 'remove_task',
      };
      s.touched = true;
      results.set(t.index, { effects, stale: false });
    }

    // The batch's writes in one statement (they touch different rows); handed to `defer` when
    // nothing runs after them here and the transaction already holds the sync's origin.
    const all = [...states.values()];
    const writes = [
      insertTaskRowsStatement(
        tx,
        all.flatMap((s) => (s.created && s.task ? [s.task] : [])),
      ),
      updateSyncedTaskRowsStatement(all.flatMap((s) => (s.changed && s.task ? [s.task] : []))),
      upsertLinksStatement(
        tx,
        all.flatMap((s) => (s.link ? [s.link] : [])),
      ),
      upsertExternalItemsStatement(
        tx,
        all.flatMap((s): ExternalItemState[] =>
          s.touched && s.item
            ? [
                {
                  ...s.key,
                  itemId: s.item.itemId,
                  versionAt: s.item.versionAt,
                  removed: s.item.removed,
                },
              ]
            : [],
        ),
      ),
    ].filter((w): w is SQL => w !== undefined);
    if (defer && holdsSyncOrigin(tx) && items.every((_, index) => results.has(index)))
      defer(writes);
    else await executeTogether(tx, writes);
  }

  // Projects, and the issues kept out of the set-based path, one at a time in order.
  for (const [index, item] of items.entries()) {
    if (results.has(index)) continue;
    results.set(
      index,
      await applySync(
        {
          db: tx,
          store,
          workspace: item.workspace,
          actingUserId: item.actingUserId,
          versionAt: item.versionAt,
          dryRun: false,
        },
        {
          plan: item.plan,
          containerId: item.containerId,
          ref: item.ref,
          organisationId: item.workspace.organisationId,
        },
      ),
    );
  }
  return items.map((_, index) => results.get(index) ?? { effects: [], stale: false });
}
