import type { Executor } from '../../db/database.ts';
import type { Project, ProjectUpdate } from '../projects/projects.schemas.ts';
import { updateProject as updateProjectWith } from '../projects/projects.service.ts';
import { tasksFollowProjects } from '../tasks/tasks.references.ts';
import type { Actor } from '../workspaces/workspace.service.ts';

/**
 * The service functions other features (the automation engine, the Linear / Notion sync) call
 * to create and update MONOid items. Each takes an `Executor` first: pass the engine's `tx` to
 * run inside its transaction (the services open a savepoint, so a failed call rolls back only
 * its own writes). The `Actor` is the user the automation acts as; `loadActor(tx, userId)`
 * builds it with that user's live organisation memberships.
 */
export {
  containerInWorkspace,
  createContainer,
  deleteContainer,
  findContainerIdByName,
  findContainerVisibleToUser,
  findVisibleContainer,
  getContainer,
  updateContainer,
} from '../containers/containers.service.ts';
export {
  findAllByExternalId,
  findByExternalLink,
  removeExternalLink,
  removeExternalLinksOf,
  upsertExternalLink,
} from '../external-links/external-links.service.ts';
export {
  createProject,
  deleteProject,
  findProjectIdByTitle,
  findVisibleProject,
  getProject,
} from '../projects/projects.service.ts';
export { createTask, deleteTask, getTask, updateTask } from '../tasks/tasks.service.ts';
export { type Actor, loadActor } from '../workspaces/workspace.service.ts';

/** `updateProject` with the project's followers wired (its tasks follow a container move). */
export function updateProject(
  db: Executor,
  actor: Actor,
  id: string,
  patch: ProjectUpdate,
): Promise<Project> {
  return updateProjectWith(db, actor, id, patch, tasksFollowProjects);
}
