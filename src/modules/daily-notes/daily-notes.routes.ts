import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  dailyNoteCreateSchema,
  dailyNoteListQuerySchema,
  dailyNoteListResponse,
  dailyNoteResponse,
  dailyNoteUpdateSchema,
} from './daily-notes.schemas.ts';
import {
  createDailyNote,
  deleteDailyNote,
  getDailyNote,
  listDailyNotes,
  updateDailyNote,
} from './daily-notes.service.ts';

export const dailyNoteRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'daily note',
    plural: 'daily notes',
    // Daily notes are addressed by date; a malformed date answers 404 like a missing note.
    param: {
      name: 'date',
      schema: z.string().min(1).max(200),
      description: 'The note’s date, YYYY-MM-DD.',
    },
    listQuery: dailyNoteListQuerySchema,
    createBody: dailyNoteCreateSchema,
    updateBody: dailyNoteUpdateSchema,
    itemResponse: dailyNoteResponse,
    listResponse: dailyNoteListResponse,
    updateErrors: [409],
    list: listDailyNotes,
    create: createDailyNote,
    get: getDailyNote,
    update: updateDailyNote,
    remove: deleteDailyNote,
  });
};
