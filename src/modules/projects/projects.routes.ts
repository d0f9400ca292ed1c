import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  projectCreateSchema,
  projectListQuerySchema,
  projectListResponse,
  projectResponse,
  projectUpdateSchema,
} from './projects.schemas.ts';
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  type ProjectFollowers,
  updateProject,
} from './projects.service.ts';

/** Options: `followers`, what tasks do when a project moves (wired in `planning/`). */
export const projectRoutes: FastifyPluginAsync<{ followers: ProjectFollowers }> = async (
  app,
  { followers },
) => {
  registerCrudRoutes(app, {
    singular: 'project',
    plural: 'projects',
    listQuery: projectListQuerySchema,
    createBody: projectCreateSchema,
    updateBody: projectUpdateSchema,
    itemResponse: projectResponse,
    listResponse: projectListResponse,
    deleteNote: 'The project’s tasks stay in its container with `projectId: null`.',
    list: listProjects,
    create: createProject,
    get: getProject,
    update: (db, actor, id, patch) => updateProject(db, actor, id, patch, followers),
    remove: deleteProject,
  });
};
