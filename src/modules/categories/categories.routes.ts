import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  categoryCreateSchema,
  categoryListQuerySchema,
  categoryListResponse,
  categoryResponse,
  categoryUpdateSchema,
} from './categories.schemas.ts';
import {
  createCategory,
  deleteCategory,
  getCategory,
  listCategories,
  updateCategory,
} from './categories.service.ts';

export const categoryRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'category',
    plural: 'categories',
    listQuery: categoryListQuerySchema,
    createBody: categoryCreateSchema,
    updateBody: categoryUpdateSchema,
    itemResponse: categoryResponse,
    listResponse: categoryListResponse,
    updateErrors: [409],
    deleteNote: 'Items that used the category keep existing with `categoryId: null`.',
    list: listCategories,
    create: createCategory,
    get: getCategory,
    update: updateCategory,
    remove: deleteCategory,
  });
};
