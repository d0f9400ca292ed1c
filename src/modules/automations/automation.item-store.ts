import type { Executor } from '../../db/database.ts';
import { AppError } from '../../http/errors.ts';
import { externalProviders } from '../external-links/external-links.table.ts';
import { findMemberIdByEmail } from '../identity/identity.repository.ts';
import { PermanentError } from '../inbox/inbox.errors.ts';
import {
  type Actor,
  containerInWorkspace,
  createContainer,
  createProject,
  createTask,
  findContainerIdByName,
  findProjectIdByTitle,
  loadActor,
  updateProject,
  updateTask,
  upsertExternalLink,
} from '../planning/planning.services.ts';
import { type Workspace, workspaceIdOf } from '../workspaces/workspace.context.ts';
import type { ItemStore, TaskPatch } from './automation.effects.ts';

/**
 * A 4xx from the public API's services (the acting user left the organisation, a reference
 * became invalid) will not heal by retrying: it dead-letters the event with the reason.
 */
async function viaService<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError && err.status < 500)
      throw new PermanentError(`${err.code}: ${err.message}`);
    throw err;
  }
}

async function actorFor(db: Executor, ws: Workspace, userId: string): Promise<Actor> {
  const actor = await loadActor(db, userId);
  if (ws.organisationId && !actor.organisations.has(ws.organisationId))
    throw new PermanentError('the user the automation acts as is no longer a member');
  return actor;
}

function isNotFound(err: unknown): boolean {
  return err instanceof AppError && err.status === 404;
}

/**
 * The engine's writes, through the public API's services (same integrity rules as the REST
 * API), in the engine's transaction (the services use savepoints inside it).
 */
export const publicApiItemStore: ItemStore = {
  async containerExists(db, ws, id) {
    return containerInWorkspace(db, { workspaceId: workspaceIdOf(ws), id });
  },
  async findContainerByName(db, ws, name) {
    return findContainerIdByName(db, { workspaceId: workspaceIdOf(ws), name });
  },
  async createContainer(db, ws, actingUserId, input) {
    const actor = await actorFor(db, ws, actingUserId);
    const created = await viaService(() =>
      createContainer(db, actor, {
        name: input.name,
        description: input.description,
        organisationId: ws.organisationId ?? 'personal',
      }),
    );
    return created._id;
  },
  async findProjectByTitle(db, _ws, containerId, title) {
    return findProjectIdByTitle(db, { containerId, title });
  },
  async createProject(db, ws, actingUserId, input) {
    const actor = await actorFor(db, ws, actingUserId);
    const created = await viaService(() =>
      createProject(db, actor, {
        title: input.title,
        description: input.description,
        ...(input.status ? { status: input.status } : {}),
        containerId: input.containerId,
      }),
    );
    return created._id;
  },
  async updateProject(db, ws, actingUserId, id, patch) {
    const actor = await actorFor(db, ws, actingUserId);
    try {
      await updateProject(db, actor, id, {
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.status ? { status: patch.status } : {}),
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      return viaService(() => Promise.reject(err));
    }
  },
  async createTask(db, ws, actingUserId, input) {
    const actor = await actorFor(db, ws, actingUserId);
    const created = await viaService(() =>
      createTask(db, actor, {
        title: input.title,
        notes: input.notes,
        ...(input.bucket ? { bucket: input.bucket } : {}),
        dueDate: input.dueDate,
        doDate: input.doDate,
        projectId: input.projectId,
        containerId: input.projectId ? undefined : input.containerId,
        assigneeId: input.assigneeId,
        organisationId: ws.organisationId ?? 'personal',
      }),
    );
    return created._id;
  },
  async updateTask(db, ws, actingUserId, id, patch: TaskPatch) {
    const actor = await actorFor(db, ws, actingUserId);
    try {
      await updateTask(db, actor, id, patch);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      return viaService(() => Promise.reject(err));
    }
  },
  async linkExternal(db, input) {
    // The public API's link kinds name each provider (its contract); one it does not know
    // cannot be linked, and retrying will not change that.
    const provider = externalProviders.find((p) => p === input.provider);
    if (!provider) throw new PermanentError(`external links have no kind "${input.provider}"`);
    await upsertExternalLink(db, {
      provider,
      externalId: input.externalId,
      url: input.url,
      title: input.title,
      entityType: input.entityType,
      entityId: input.entityId,
      containerId: input.containerId,
    });
  },
  async findMemberByEmail(db, organisationId, email) {
    return findMemberIdByEmail(db, { organisationId, email });
  },
};
