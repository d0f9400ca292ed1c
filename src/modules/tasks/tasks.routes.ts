import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  taskCreateSchema,
  taskListQuerySchema,
  taskListResponse,
  taskResponse,
  taskUpdateSchema,
} from './tasks.schemas.ts';
import { createTask, deleteTask, getTask, listTasks, updateTask } from './tasks.service.ts';

export const taskRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'task',
    plural: 'tasks',
    listQuery: taskListQuerySchema,
    createBody: taskCreateSchema,
    updateBody: taskUpdateSchema,
    itemResponse: taskResponse,
    listResponse: taskListResponse,
    list: listTasks,
    create: createTask,
    get: getTask,
    update: updateTask,
    remove: deleteTask,
  });
};
