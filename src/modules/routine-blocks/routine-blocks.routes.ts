import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  routineBlockCreateSchema,
  routineBlockListQuerySchema,
  routineBlockListResponse,
  routineBlockResponse,
  routineBlockUpdateSchema,
} from './routine-blocks.schemas.ts';
import {
  createRoutineBlock,
  deleteRoutineBlock,
  getRoutineBlock,
  listRoutineBlocks,
  updateRoutineBlock,
} from './routine-blocks.service.ts';

export const routineBlockRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'routine block',
    plural: 'routine blocks',
    listQuery: routineBlockListQuerySchema,
    createBody: routineBlockCreateSchema,
    updateBody: routineBlockUpdateSchema,
    itemResponse: routineBlockResponse,
    listResponse: routineBlockListResponse,

    deleteNote:
      'Deleting a template deletes its overrides; tasks planned into the block keep `routineBlockId: null`.',
    list: listRoutineBlocks,
    create: createRoutineBlock,
    get: getRoutineBlock,
    update: updateRoutineBlock,
    remove: deleteRoutineBlock,
  });
};
