import type { Executor } from '../../db/database.ts';
import { notFound } from '../../http/errors.ts';
import { assertCategoryFor, categoriesById } from '../categories/categories.service.ts';
import { findVisibleContainer } from '../containers/containers.service.ts';
import { linksByEntity, removeExternalLinksOf } from '../external-links/external-links.service.ts';
import { assertLabelsFor, labelsById } from '../labels/labels.service.ts';
import {
  type Actor,
  idOrNoMatch,
  invalidReference,
  isUuid,
  nowMs,
  pathId,
  visibleWorkspaceIds,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import {
  deleteProjectRow,
  findProjectIdByTitle,
  findProjectRow,
  insertProject,
  listProjectRows,
  type ProjectFilter,
  updateProjectRow,
} from './projects.repository.ts';
import type {
  Project,
  ProjectCreate,
  ProjectListQuery,
  ProjectUpdate,
} from './projects.schemas.ts';
import type { ProjectRow } from './projects.table.ts';

async function present(
  db: Executor,
  rows: ProjectRow[],
  options: { created?: boolean } = {},
): Promise<Project[]> {
  const ids = rows.map((r) => r.id);
  const [links, cats, labs] = await Promise.all([
    // A row inserted a moment ago has no external links yet: no query for them.
    options.created
      ? new Map<string, Project['externalLinks']>()
      : linksByEntity(db, 'project', ids),
    categoriesById(
      db,
      rows.flatMap((r) => (r.categoryId ? [r.categoryId] : [])),
    ),
    labelsById(
      db,
      rows.flatMap((r) => r.labelIds),
    ),
  ]);
  return rows.map((r) => ({
    _id: r.id,
    userId: r.userId,
    title: r.title,
    description: r.description,
    status: r.status,
    containerId: r.containerId,
    organisationId: r.organisationId,
    categoryId: r.categoryId,
    category: (r.categoryId && cats.get(r.categoryId)) || null,
    labelIds: r.labelIds,
    labels: r.labelIds.flatMap((id) => {
      const label = labs.get(id);
      return label ? [label] : [];
    }),
    externalLinks: links.get(r.id) ?? [],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

async function presentOne(
  db: Executor,
  row: ProjectRow,
  options: { created?: boolean } = {},
): Promise<Project> {
  const [item] = await present(db, [row], options);
  return item as Project;
}

/** The repository filter of a list request (workspaces resolved, malformed ids matching none). */
export async function projectFilterFor(
  db: Executor,
  actor: Actor,
  query: ProjectListQuery,
): Promise<ProjectFilter> {
  const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
  return {
    workspaceIds,
    status: query.status,
    containerId: query.containerId === undefined ? undefined : idOrNoMatch(query.containerId),
    categoryId: query.categoryId === undefined ? undefined : idOrNoMatch(query.categoryId),
    labelId: query.labelId === undefined ? undefined : idOrNoMatch(query.labelId),
    hasExternalLink: query.hasExternalLink,
    externalLinkProvider: query.externalLinkProvider,
    createdAtEq: query.createdAtEq,
    createdAtGte: query.createdAtGte,
    createdAtLte: query.createdAtLte,
    updatedAtEq: query.updatedAtEq,
    updatedAtGte: query.updatedAtGte,
    updatedAtLte: query.updatedAtLte,
    limit: query.limit,
    offset: query.offset,
  };
}

export async function listProjects(
  db: Executor,
  actor: Actor,
  query: ProjectListQuery,
): Promise<Project[]> {
  const rows = await listProjectRows(db, await projectFilterFor(db, actor, query));
  return present(db, rows);
}

/** A project the actor can see (row form, for the task service's integrity checks). */
export async function findVisibleProject(
  db: Executor,
  actor: Actor,
  id: string,
): Promise<ProjectRow | undefined> {
  if (!isUuid(id)) return undefined;
  return findProjectRow(db, { id: id.toLowerCase(), workspaceIds: visibleWorkspaceIds(actor) });
}

export { findProjectIdByTitle };

export async function getProject(db: Executor, actor: Actor, id: string): Promise<Project> {
  const row = await findVisibleProject(db, actor, pathId(id, 'Project'));
  if (!row) throw notFound('Project');
  return presentOne(db, row);
}

async function visibleContainerOrThrow(db: Executor, actor: Actor, containerId: string) {
  const container = isUuid(containerId)
    ? await findVisibleContainer(db, actor, containerId.toLowerCase())
    : undefined;
  if (!container) throw invalidReference('containerId', 'container not found');
  return container;
}

/**
 * Creates a project in a container the actor can see; the project joins the container's
 * workspace. Category and labels must be of that workspace with entity type `project`.
 */
export async function createProject(
  db: Executor,
  actor: Actor,
  input: ProjectCreate,
): Promise<Project> {
  return db.transaction(async (tx) => {
    const container = await visibleContainerOrThrow(tx, actor, input.containerId);
    const workspaceId = container.workspaceId;
    if (input.categoryId) {
      await assertCategoryFor(tx, {
        categoryId: input.categoryId,
        workspaceId,
        entityTypes: ['project'],
      });
    }
    const labelIds = await assertLabelsFor(tx, {
      labelIds: input.labelIds ?? [],
      workspaceId,
      entityType: 'project',
    });
    const now = nowMs();
    const row = await insertProject(tx, {
      userId: actor.userId,
      organisationId: container.organisationId,
      workspaceId,
      title: input.title,
      description: input.description ?? null,
      status: input.status ?? 'active',
      containerId: container.id,
      categoryId: input.categoryId ? input.categoryId.toLowerCase() : null,
      labelIds,
      createdAt: now,
      updatedAt: now,
    });
    return presentOne(tx, row, { created: true });
  });
}

/**
 * What the items filed under projects (tasks) do when a project changes. Their module imports
 * projects, never the other way, so `planning/` hands this over.
 */
export interface ProjectFollowers {
  /** The project moved to another container: its items follow it there. */
  containerChanged(
    db: Executor,
    input: { projectId: string; containerId: string; now: number },
  ): Promise<void>;
}

/**
 * Partial update. Moving to another container keeps the project in its workspace (a container
 * of another workspace is a 400) and its tasks follow it.
 */
export async function updateProject(
  db: Executor,
  actor: Actor,
  id: string,
  patch: ProjectUpdate,
  followers: ProjectFollowers,
): Promise<Project> {
  const projectId = pathId(id, 'Project');
  return db.transaction(async (tx) => {
    const existing = await findProjectRow(tx, {
      id: projectId,
      workspaceIds: visibleWorkspaceIds(actor),
      forUpdate: true,
    });
    if (!existing) throw notFound('Project');
    const now = nowMs();
    let containerId: string | undefined;
    if (patch.containerId !== undefined) {
      const container = await visibleContainerOrThrow(tx, actor, patch.containerId);
      if (container.workspaceId !== existing.workspaceId) {
        throw invalidReference('containerId', 'container must be in the project’s workspace');
      }
      containerId = container.id;
    }
    if (patch.categoryId) {
      await assertCategoryFor(tx, {
        categoryId: patch.categoryId,
        workspaceId: existing.workspaceId,
        entityTypes: ['project'],
      });
    }
    const labelIds =
      patch.labelIds === undefined
        ? undefined
        : await assertLabelsFor(tx, {
            labelIds: patch.labelIds ?? [],
            workspaceId: existing.workspaceId,
            entityType: 'project',
          });
    const row = await updateProjectRow(tx, projectId, {
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(containerId !== undefined ? { containerId } : {}),
      ...(patch.categoryId !== undefined
        ? { categoryId: patch.categoryId ? patch.categoryId.toLowerCase() : null }
        : {}),
      ...(labelIds !== undefined ? { labelIds } : {}),
      updatedAt: now,
    });
    if (!row) throw notFound('Project');
    if (containerId !== undefined && containerId !== existing.containerId) {
      await followers.containerChanged(tx, { projectId, containerId, now });
    }
    return presentOne(tx, row);
  });
}

/** Deletes a project; its tasks stay in the container with `projectId: null`. */
export async function deleteProject(db: Executor, actor: Actor, id: string): Promise<void> {
  const projectId = pathId(id, 'Project');
  await db.transaction(async (tx) => {
    const existing = await findProjectRow(tx, {
      id: projectId,
      workspaceIds: visibleWorkspaceIds(actor),
      forUpdate: true,
    });
    if (!existing) throw notFound('Project');
    await removeExternalLinksOf(tx, 'project', projectId);
    await deleteProjectRow(tx, projectId);
  });
}
