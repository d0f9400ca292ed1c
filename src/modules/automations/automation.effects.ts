import type { Executor } from '../../db/database.ts';
import type { ProjectStatus } from '../projects/projects.table.ts';
import type { TaskBucket } from '../tasks/tasks.table.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import type { ExternalRef } from './automation.event.ts';
import {
  type ExternalItemKey,
  upsertExternalItem,
  workspaceKeyOf,
} from './automations.repository.ts';

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
  /** The rule being applied (null: a sync): recorded on the items it makes. */
  automationId?: string | null;
}

export function keyFor(
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

/** Records the version applied to the item an external item became (older events lose). */
export async function recordExternalItem(
  ctx: EffectContext,
  key: ExternalItemKey,
  itemId: string,
): Promise<void> {
  await upsertExternalItem(ctx.db, {
    ...key,
    itemId,
    versionAt: ctx.versionAt,
    removed: false,
    automationId: ctx.automationId ?? null,
  });
}

/**
 * Create → link → record: the tail every creating action and the sync share. Creates the
 * item, links it to its external item through the public API (so it shows in
 * `externalLinks`), and records the version applied.
 */
export async function createLinked(
  ctx: EffectContext,
  input: {
    key: ExternalItemKey;
    ref: ExternalRef;
    itemType: ExternalItemKey['itemType'];
    /** The container the public API's link sits in (null: outside any container). */
    linkContainerId: string | null;
    create(): Promise<string>;
  },
): Promise<string> {
  const id = await input.create();
  await ctx.store.linkExternal(ctx.db, {
    ...input.ref,
    entityType: input.itemType,
    entityId: id,
    containerId: input.linkContainerId,
  });
  await recordExternalItem(ctx, input.key, id);
  return id;
}
