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
  updateProject,
} from './projects.service.ts';

export const projectRoutes: FastifyPluginAsync = async (app) => {
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
    update: updateProject,
    remove: deleteProject,
  });
};
