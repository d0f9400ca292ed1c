import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  labelCreateSchema,
  labelListQuerySchema,
  labelListResponse,
  labelResponse,
  labelUpdateSchema,
} from './labels.schemas.ts';
import { createLabel, deleteLabel, getLabel, listLabels, updateLabel } from './labels.service.ts';

export const labelRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'label',
    plural: 'labels',
    listQuery: labelListQuerySchema,
    createBody: labelCreateSchema,
    updateBody: labelUpdateSchema,
    itemResponse: labelResponse,
    listResponse: labelListResponse,
    updateErrors: [409],
    deleteNote: 'The label is removed from the `labelIds` of every item.',
    list: listLabels,
    create: createLabel,
    get: getLabel,
    update: updateLabel,
    remove: deleteLabel,
  });
};
