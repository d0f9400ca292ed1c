import type { Executor } from '../../db/database.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import type {
  ContainerRef,
  ExternalRef,
  PlannedAction,
  PlannedTaskFields,
} from './automation.rules.ts';
import type { ProjectStatus, TaskBucket } from './automation.state-mapping.ts';
import {
  type ExternalItemKey,
  findExternalItemForUpdate,
  listExternalItems,
  upsertExternalItem,
  workspaceKeyOf,
} from './automations.repository.ts';
import type { SyncPlan } from './linear-sync.mapping.ts';

/**
 * Applying what a rule or the Linear sync planned. Every write goes through an `ItemStore`
 * (tasks, projects, containers and their external links: the public API's services), inside
 * the caller's transaction, which also holds the run record. With `dryRun` nothing is
 * written: the same code reports what it would create or change.
 */
export interface TaskInput {
  title: string;
  notes: string | null;
  bucket: TaskBucket | null;
  dueDate: string | null;
  doDate: string | null;
  projectId: string | null;
  containerId: string | null;
  assigneeId: string | null;
}

export interface TaskPatch {
  title?: string;
  notes?: string | null;
  bucket?: TaskBucket;
  dueDate?: string | null;
  doDate?: string | null;
  projectId?: string | null;
  assigneeId?: string | null;
}

export interface ProjectInput {
  title: string;
  description: string | null;
  status: ProjectStatus | null;
  containerId: string;
}

export interface ItemStore {
  containerExists(db: Executor, ws: Workspace, id: string): Promise<boolean>;
  findContainerByName(db: Executor, ws: Workspace, name: string): Promise<string | null>;
  createContainer(
    db: Executor,
    ws: Workspace,
    actingUserId: string,
    input: { name: string; description: string | null },
  ): Promise<string>;
  findProjectByTitle(
    db: Executor,
    ws: Workspace,
    containerId: string,
    title: string,
  ): Promise<string | null>;
  createProject(
    db: Executor,
    ws: Workspace,
    actingUserId: string,
    input: ProjectInput,
  ): Promise<string>;
  /** False when the project no longer exists. */
  updateProject(
    db: Executor,
    ws: Workspace,
    actingUserId: string,
    id: string,
    patch: Partial<Omit<ProjectInput, 'containerId'>>,
  ): Promise<boolean>;
  createTask(db: Executor, ws: Workspace, actingUserId: string, input: TaskInput): Promise<string>;
  /** False when the task no longer exists (deleted by a user). */
  updateTask(
    db: Executor,
    ws: Workspace,
    actingUserId: string,
    id: string,
    patch: TaskPatch,
  ): Promise<boolean>;
  linkExternal(
    db: Executor,
    input: ExternalRef & {
      entityType: 'task' | 'project' | 'container';
      entityId: string;
      containerId: string | null;
    },
  ): Promise<void>;
  /** The organisation member with this email (lower-cased), if any. */
  findMemberByEmail(db: Executor, organisationId: string, email: string): Promise<string | null>;
}

/** An error retrying cannot fix (a missing container the rule names...): dead-letter at once. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** A provider asked us to slow down (429) or failed (5xx): retry, not before `retryAfterMs`. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

export type EffectChange =
  | 'created'
  | 'updated'
  | 'cancelled'
  | 'exists'
  | 'not_found'
  | 'would_create'
  | 'would_update'
  | 'would_cancel';

export interface Effect {
  action: string;
  itemType: 'task' | 'project' | 'container';
  itemId: string | null;
  change: EffectChange;
  detail?: string;
}

export interface EffectContext {
  db: Executor;
  store: ItemStore;
  workspace: Workspace;
  /** The user items are created as (rule author, link author or connection owner). */
  actingUserId: string;
  /** Provider version of the entity (ms): stored so that older updates are ignored. */
  versionAt: number;
  dryRun: boolean;
}

function keyFor(
  ctx: EffectContext,
  ref: ExternalRef,
  itemType: ExternalItemKey['itemType'],
  containerId: string | null,
): ExternalItemKey {
  return {
    workspaceKey: workspaceKeyOf(ctx.workspace),
    provider: ref.provider,
    externalId: ref.externalId,
    itemType,
    containerKey: containerId ?? '',
  };
}

async function resolveContainer(
  ctx: EffectContext,
  ref: ContainerRef,
  effects: Effect[],
  action: string,
): Promise<string | null> {
  if (ref.by === 'id') {
    if (!(await ctx.store.containerExists(ctx.db, ctx.workspace, ref.id)))
      throw new PermanentError(`container ${ref.id} does not exist in this workspace`);
    return ref.id;
  }
  const found = await ctx.store.findContainerByName(ctx.db, ctx.workspace, ref.name);
  if (found) return found;
  if (!ref.createIfMissing) throw new PermanentError(`no container named "${ref.name}"`);
  if (ctx.dryRun) {
    effects.push({
      action,
      itemType: 'container',
      itemId: null,
      change: 'would_create',
      detail: ref.name,
    });
    return null;
  }
  const id = await ctx.store.createContainer(ctx.db, ctx.workspace, ctx.actingUserId, {
    name: ref.name,
    description: null,
  });
  effects.push({ action, itemType: 'container', itemId: id, change: 'created', detail: ref.name });
  return id;
}

async function resolveProject(
  ctx: EffectContext,
  containerId: string | null,
  ref: { name: string; createIfMissing: boolean },
  effects: Effect[],
  action: string,
): Promise<string | null> {
  const found = containerId
    ? await ctx.store.findProjectByTitle(ctx.db, ctx.workspace, containerId, ref.name)
    : null;
  if (found) return found;
  if (!ref.createIfMissing) throw new PermanentError(`no project named "${ref.name}"`);
  if (ctx.dryRun || !containerId) {
    effects.push({
      action,
      itemType: 'project',
      itemId: null,
      change: 'would_create',
      detail: ref.name,
    });
    return null;
  }
  const id = await ctx.store.createProject(ctx.db, ctx.workspace, ctx.actingUserId, {
    title: ref.name,
    description: null,
    status: null,
    containerId,
  });
  effects.push({ action, itemType: 'project', itemId: id, change: 'created', detail: ref.name });
  return id;
}

function taskPatch(fields: PlannedTaskFields): TaskPatch {
  const patch: TaskPatch = {};
  if (fields.title !== undefined) patch.title = fields.title;
  if (fields.notes !== undefined) patch.notes = fields.notes;
  if (fields.bucket !== undefined) patch.bucket = fields.bucket;
  if (fields.dueDate !== undefined) patch.dueDate = fields.dueDate;
  if (fields.doDate !== undefined) patch.doDate = fields.doDate;
  return patch;
}

/** Applies (or, dry, describes) a rule's planned actions, in order. */
export async function applyRuleActions(
  ctx: EffectContext,
  actions: PlannedAction[],
): Promise<Effect[]> {
  const effects: Effect[] = [];
  for (const planned of actions) {
    const action = planned.type;
    switch (planned.type) {
      case 'create_task': {
        const containerId = planned.container
          ? await resolveContainer(ctx, planned.container, effects, action)
          : null;
        const key = keyFor(ctx, planned.externalLink, 'task', containerId);
        const existing =
          containerId !== null || !planned.container
            ? await findExternalItemForUpdate(ctx.db, key)
            : undefined;
        if (existing?.itemId) {
          effects.push({ action, itemType: 'task', itemId: existing.itemId, change: 'exists' });
          break;
        }
        const projectId = planned.project
          ? await resolveProject(ctx, containerId, planned.project, effects, action)
          : null;
        if (ctx.dryRun) {
          effects.push({
            action,
            itemType: 'task',
            itemId: null,
            change: 'would_create',
            detail: planned.task.title,
          });
          break;
        }
        const id = await ctx.store.createTask(ctx.db, ctx.workspace, ctx.actingUserId, {
          title: planned.task.title,
          notes: planned.task.notes ?? null,
          bucket: planned.task.bucket ?? null,
          dueDate: planned.task.dueDate ?? null,
          doDate: planned.task.doDate ?? null,
          projectId,
          containerId,
          assigneeId: null,
        });
        await ctx.store.linkExternal(ctx.db, {
          ...planned.externalLink,
          entityType: 'task',
          entityId: id,
          containerId,
        });
        await upsertExternalItem(ctx.db, {
          ...key,
          itemId: id,
          versionAt: ctx.versionAt,
          removed: false,
        });
        effects.push({
          action,
          itemType: 'task',
          itemId: id,
          change: 'created',
          detail: planned.task.title,
        });
        break;
      }
      case 'create_project': {
        const containerId = await resolveContainer(ctx, planned.container, effects, action);
        const key = keyFor(ctx, planned.externalLink, 'project', containerId);
        const existing = containerId ? await findExternalItemForUpdate(ctx.db, key) : undefined;
        if (existing?.itemId) {
          effects.push({ action, itemType: 'project', itemId: existing.itemId, change: 'exists' });
          break;
        }
        if (ctx.dryRun || !containerId) {
          effects.push({
            action,
            itemType: 'project',
            itemId: null,
            change: 'would_create',
            detail: planned.project.title,
          });
          break;
        }
        const id = await ctx.store.createProject(ctx.db, ctx.workspace, ctx.actingUserId, {
          ...planned.project,
          containerId,
        });
        await ctx.store.linkExternal(ctx.db, {
          ...planned.externalLink,
          entityType: 'project',
          entityId: id,
          containerId,
        });
        await upsertExternalItem(ctx.db, {
          ...key,
          itemId: id,
          versionAt: ctx.versionAt,
          removed: false,
        });
        effects.push({
          action,
          itemType: 'project',
          itemId: id,
          change: 'created',
          detail: planned.project.title,
        });
        break;
      }
      case 'create_container': {
        const key = keyFor(ctx, planned.externalLink, 'container', null);
        const existing = await findExternalItemForUpdate(ctx.db, key);
        if (existing?.itemId) {
          effects.push({
            action,
            itemType: 'container',
            itemId: existing.itemId,
            change: 'exists',
          });
          break;
        }
        if (ctx.dryRun) {
          effects.push({
            action,
            itemType: 'container',
            itemId: null,
            change: 'would_create',
            detail: planned.container.name,
          });
          break;
        }
        const id = await ctx.store.createContainer(
          ctx.db,
          ctx.workspace,
          ctx.actingUserId,
          planned.container,
        );
        // A container's link sits outside any container: the public API's links are unique
        // per (external item, container), and a project made in this container for the same
        // external item (create_container + create_project) must keep its own link.
        await ctx.store.linkExternal(ctx.db, {
          ...planned.externalLink,
          entityType: 'container',
          entityId: id,
          containerId: null,
        });
        await upsertExternalItem(ctx.db, {
          ...key,
          itemId: id,
          versionAt: ctx.versionAt,
          removed: false,
        });
        effects.push({
          action,
          itemType: 'container',
          itemId: id,
          change: 'created',
          detail: planned.container.name,
        });
        break;
      }
      case 'update_linked':
      case 'complete_linked': {
        const patch: TaskPatch =
          planned.type === 'complete_linked' ? { bucket: 'done' } : taskPatch(planned.task);
        const items = await listExternalItems(ctx.db, {
          workspaceKey: workspaceKeyOf(ctx.workspace),
          provider: planned.externalLink.provider,
          externalId: planned.externalLink.externalId,
          itemType: 'task',
        });
        const live = items.filter((i) => i.itemId && !i.removedAt);
        if (live.length === 0) {
          effects.push({
            action,
            itemType: 'task',
            itemId: null,
            change: 'not_found',
            detail: 'no item is linked to this entity',
          });
          break;
        }
        for (const item of live) {
          const itemId = item.itemId as string;
          if (ctx.dryRun) {
            effects.push({ action, itemType: 'task', itemId, change: 'would_update' });
            continue;
          }
          const ok = await ctx.store.updateTask(
            ctx.db,
            ctx.workspace,
            ctx.actingUserId,
            itemId,
            patch,
          );
          effects.push({ action, itemType: 'task', itemId, change: ok ? 'updated' : 'not_found' });
        }
        break;
      }
    }
  }
  return effects;
}

export interface SyncResult {
  effects: Effect[];
  /** Set when the event was older than what is stored and was ignored. */
  stale: boolean;
}

/**
 * The Linear sync for one linked container. Stale events (older than the stored version)
 * are ignored; a removal before the item exists leaves a tombstone so that a late create
 * does not resurrect it. A removed issue cancels its task (see docs/automations.md).
 */
export async function applyLinearSync(
  ctx: EffectContext,
  input: { plan: SyncPlan; containerId: string; ref: ExternalRef; organisationId: string | null },
): Promise<SyncResult> {
  const { plan, containerId } = input;
  const effects: Effect[] = [];
  if (plan.kind === 'none') return { effects, stale: false };
  const itemType = plan.kind === 'upsert_task' || plan.kind === 'remove_task' ? 'task' : 'project';
  const action = `sync.${plan.kind}`;
  const key = keyFor(ctx, input.ref, itemType, containerId);
  const existing = await findExternalItemForUpdate(ctx.db, key);
  if (existing && ctx.versionAt < existing.versionAt) return { effects, stale: true };
  const existingId = existing?.itemId ?? null;

  if (plan.kind === 'remove_task' || plan.kind === 'remove_project') {
    if (existingId) {
      if (ctx.dryRun)
        effects.push({ action, itemType, itemId: existingId, change: 'would_cancel' });
      else {
        const ok =
          itemType === 'task'
            ? await ctx.store.updateTask(ctx.db, ctx.workspace, ctx.actingUserId, existingId, {
                bucket: 'cancelled',
              })
            : await ctx.store.updateProject(ctx.db, ctx.workspace, ctx.actingUserId, existingId, {
                status: 'cancelled',
              });
        effects.push({
          action,
          itemType,
          itemId: existingId,
          change: ok ? 'cancelled' : 'not_found',
        });
      }
    }
    if (!ctx.dryRun)
      await upsertExternalItem(ctx.db, {
        ...key,
        itemId: existingId,
        versionAt: ctx.versionAt,
        removed: true,
      });
    return { effects, stale: false };
  }
  // From here on: create or update. An event newer than a tombstone means the issue was
  // restored, so it syncs again.

  if (plan.kind === 'upsert_project') {
    const f = plan.fields;
    if (ctx.dryRun) {
      effects.push({
        action,
        itemType,
        itemId: existingId,
        change: existingId ? 'would_update' : 'would_create',
        detail: f.title,
      });
      return { effects, stale: false };
    }
    let id = existingId;
    let change: EffectChange = 'updated';
    if (
      !id ||
      !(await ctx.store.updateProject(ctx.db, ctx.workspace, ctx.actingUserId, id, {
        title: f.title,
        description: f.description,
        status: f.status,
      }))
    ) {
      id = await ctx.store.createProject(ctx.db, ctx.workspace, ctx.actingUserId, {
        title: f.title,
        description: f.description,
        status: f.status,
        containerId,
      });
      change = 'created';
      await ctx.store.linkExternal(ctx.db, {
        ...input.ref,
        title: f.title,
        entityType: 'project',
        entityId: id,
        containerId,
      });
    }
    await upsertExternalItem(ctx.db, {
      ...key,
      itemId: id,
      versionAt: ctx.versionAt,
      removed: false,
    });
    effects.push({ action, itemType, itemId: id, change, detail: f.title });
    return { effects, stale: false };
  }

  const f = plan.fields;
  let projectId: string | null = null;
  if (f.linearProjectId) {
    const project = await findExternalItemForUpdate(ctx.db, {
      ...key,
      externalId: f.linearProjectId,
      itemType: 'project',
    });
    projectId = project?.removedAt ? null : (project?.itemId ?? null);
  }
  const assigneeId =
    input.organisationId && f.assigneeEmail
      ? await ctx.store.findMemberByEmail(ctx.db, input.organisationId, f.assigneeEmail)
      : null;
  if (ctx.dryRun) {
    effects.push({
      action,
      itemType,
      itemId: existingId,
      change: existingId ? 'would_update' : 'would_create',
      detail: f.title,
    });
    return { effects, stale: false };
  }
  const fields = {
    title: f.title,
    notes: f.notes,
    bucket: f.bucket,
    dueDate: f.dueDate,
    projectId,
    assigneeId,
  };
  let id = existingId;
  let change: EffectChange = 'updated';
  // Linear is the source of truth: a task deleted in MONOid while its issue lives is recreated.
  if (!id || !(await ctx.store.updateTask(ctx.db, ctx.workspace, ctx.actingUserId, id, fields))) {
    id = await ctx.store.createTask(ctx.db, ctx.workspace, ctx.actingUserId, {
      ...fields,
      doDate: null,
      containerId,
    });
    change = 'created';
    await ctx.store.linkExternal(ctx.db, {
      ...input.ref,
      title: f.title,
      entityType: 'task',
      entityId: id,
      containerId,
    });
  }
  await upsertExternalItem(ctx.db, {
    ...key,
    itemId: id,
    versionAt: ctx.versionAt,
    removed: false,
  });
  effects.push({ action, itemType, itemId: id, change, detail: f.title });
  return { effects, stale: false };
}
