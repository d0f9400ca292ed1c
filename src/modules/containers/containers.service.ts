import type { Executor } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import { linksByEntity, removeExternalLinksOf } from '../external-links/external-links.service.ts';
import {
  type Actor,
  isForeignKeyViolation,
  isUuid,
  nowMs,
  organisationForWrite,
  pathId,
  visibleWorkspaceIds,
  workspaceKey,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import {
  deleteContainerRow,
  findContainerIdByName,
  findContainerRow,
  insertContainer,
  listContainerRows,
  updateContainerRow,
} from './containers.repository.ts';
import type {
  Container,
  ContainerCreate,
  ContainerListQuery,
  ContainerUpdate,
} from './containers.schemas.ts';
import type { ContainerRow } from './containers.table.ts';

async function present(db: Executor, rows: ContainerRow[]): Promise<Container[]> {
  const links = await linksByEntity(
    db,
    'container',
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({
    _id: r.id,
    userId: r.userId,
    name: r.name,
    description: r.description,
    organisationId: r.organisationId,
    externalLinks: links.get(r.id) ?? [],
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

async function presentOne(db: Executor, row: ContainerRow): Promise<Container> {
  const [item] = await present(db, [row]);
  return item as Container;
}

export async function listContainers(
  db: Executor,
  actor: Actor,
  query: ContainerListQuery,
): Promise<Container[]> {
  const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
  const rows = await listContainerRows(db, {
    workspaceIds,
    limit: query.limit,
    offset: query.offset,
  });
  return present(db, rows);
}

/** A container the actor can see (row form, for other services' integrity checks). */
export async function findVisibleContainer(
  db: Executor,
  actor: Actor,
  id: string,
): Promise<ContainerRow | undefined> {
  return findContainerRow(db, { id, workspaceIds: visibleWorkspaceIds(actor) });
}

/**
 * `findVisibleContainer` for a user acting with no API key (the automation engine's acting
 * user), the user's live memberships read in the same statement.
 */
export async function findContainerVisibleToUser(
  db: Executor,
  userId: string,
  id: string,
): Promise<ContainerRow | undefined> {
  return findContainerRow(db, { id, workspaceIds: { ofUser: userId } });
}

/** Whether a container is in a workspace (the automation engine's look-ups). */
export async function containerInWorkspace(
  db: Executor,
  input: { workspaceId: string; id: string },
): Promise<boolean> {
  if (!isUuid(input.id)) return false;
  const row = await findContainerRow(db, {
    id: input.id.toLowerCase(),
    workspaceIds: [input.workspaceId],
  });
  return row !== undefined;
}

export { findContainerIdByName };

export async function getContainer(db: Executor, actor: Actor, id: string): Promise<Container> {
  const row = await findVisibleContainer(db, actor, pathId(id, 'Container'));
  if (!row) throw notFound('Container');
  return presentOne(db, row);
}

export async function createContainer(
  db: Executor,
  actor: Actor,
  input: ContainerCreate,
): Promise<Container> {
  const organisationId = (await organisationForWrite(db, actor, input.organisationId)) ?? null;
  const now = nowMs();
  const row = await insertContainer(db, {
    userId: actor.userId,
    organisationId,
    workspaceId: workspaceKey(actor, organisationId),
    name: input.name,
    description: input.description ?? null,
    createdAt: now,
    updatedAt: now,
  });
  return presentOne(db, row);
}

export async function updateContainer(
  db: Executor,
  actor: Actor,
  id: string,
  patch: ContainerUpdate,
): Promise<Container> {
  const containerId = pathId(id, 'Container');
  const existing = await findVisibleContainer(db, actor, containerId);
  if (!existing) throw notFound('Container');
  const row = await updateContainerRow(db, containerId, {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    updatedAt: nowMs(),
  });
  if (!row) throw notFound('Container');
  return presentOne(db, row);
}

/**
 * Deletes a container; one that still holds projects is a 409 (move or delete them first).
 * The projects module answers whether it does: its foreign key refuses the delete.
 */
export async function deleteContainer(db: Executor, actor: Actor, id: string): Promise<void> {
  const containerId = pathId(id, 'Container');
  await db
    .transaction(async (tx) => {
      const existing = await findContainerRow(tx, {
        id: containerId,
        workspaceIds: visibleWorkspaceIds(actor),
        forUpdate: true,
      });
      if (!existing) throw notFound('Container');
      await removeExternalLinksOf(tx, 'container', containerId);
      await deleteContainerRow(tx, containerId);
    })
    .catch((err: unknown) => {
      if (isForeignKeyViolation(err)) {
        throw conflict('The container still holds projects; move or delete them first.');
      }
      throw err;
    });
}
