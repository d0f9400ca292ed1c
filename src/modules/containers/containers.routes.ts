import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  containerCreateSchema,
  containerListQuerySchema,
  containerListResponse,
  containerResponse,
  containerUpdateSchema,
} from './containers.schemas.ts';
import {
  createContainer,
  deleteContainer,
  getContainer,
  listContainers,
  updateContainer,
} from './containers.service.ts';

export const containerRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'container',
    plural: 'containers',
    listQuery: containerListQuerySchema,
    createBody: containerCreateSchema,
    updateBody: containerUpdateSchema,
    itemResponse: containerResponse,
    listResponse: containerListResponse,
    deleteErrors: [409],
    deleteNote: 'A container that still holds projects cannot be deleted (409 CONFLICT).',
    list: listContainers,
    create: createContainer,
    get: getContainer,
    update: updateContainer,
    remove: deleteContainer,
  });
};
