import { z } from 'zod';
import {
  dateSchema,
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  stringListQuery,
} from '../public-api/public-api.schemas.ts';

export const dailyNoteSchema = z
  .object({
    _id: z.string(),
    userId: z.string(),
    date: z.string(),
    content: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'DailyNote', description: 'One note per user and date; addressed by date.' });
export type DailyNote = z.infer<typeof dailyNoteSchema>;

export const exampleDailyNote: DailyNote = {
  _id: 'e1f2a3b4-c5d6-4e7f-8091-a2b3c4d5e6f7',
  userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
  date: '2026-11-27',
  content: 'Shipped the API reference. Tomorrow: benchmarks.',
  createdAt: 1764201600000,
  updatedAt: 1764205200000,
};

export const dailyNoteCreateSchema = z
  .object({ date: dateSchema, content: z.string().max(200_000).nullable().optional() })
  .meta({
    id: 'DailyNoteCreate',
    example: { date: '2026-11-27', content: 'Shipped the API reference.' },
  });
export type DailyNoteCreate = z.infer<typeof dailyNoteCreateSchema>;

export const dailyNoteUpdateSchema = z
  .object({
    date: dateSchema.optional(),
    content: z.string().max(200_000).nullable().optional(),
  })
  .meta({ id: 'DailyNoteUpdate', example: { content: 'Shipped the API reference and docs.' } });
export type DailyNoteUpdate = z.infer<typeof dailyNoteUpdateSchema>;

export const dailyNoteListQuerySchema = z.object({
  dates: stringListQuery(
    z
      .string()
      .regex(
        /^ *\d{4}-\d{2}-\d{2} *(?:, *\d{4}-\d{2}-\d{2} *)*,?$/,
        'must be dates YYYY-MM-DD, comma-separated',
      ),
  )
    .pipe(z.array(dateSchema).max(366))
    .optional()
    .meta({
      description: 'Dates to fetch: repeated `dates=` parameters or a comma-separated list.',
    }),
  ...listQueryShape,
});
export type DailyNoteListQuery = z.infer<typeof dailyNoteListQuerySchema>;

export const dailyNoteResponse = itemEnvelope(dailyNoteSchema, exampleDailyNote);
export const dailyNoteListResponse = listEnvelope(dailyNoteSchema, exampleDailyNote);
