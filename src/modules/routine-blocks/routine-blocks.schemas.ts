import { z } from 'zod';
import {
  dateSchema,
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
  organisationIdInput,
  timeOfDaySchema,
} from '../public-api/public-api.schemas.ts';
import { blockTypes } from './routine-blocks.table.ts';

export const routineBlockSchema = z
  .object({
    _id: z.string(),
    userId: z.string(),
    organisationId: z.string().nullable(),
    templateId: z.string().nullable(),
    dayOfWeek: z.number().int().nullable(),
    date: z.string().nullable(),
    startTime: z.string().nullable(),
    endTime: z.string().nullable(),
    name: z.string().nullable(),
    categoryId: z.string().nullable(),
    content: z.string().nullable(),
    blockType: z.enum(blockTypes).nullable(),
    color: z.string().nullable(),
    updatedAt: z.number(),
  })
  .meta({
    id: 'RoutineBlock',
    description:
      'A weekly template block (`dayOfWeek`, 0 = Sunday … 6 = Saturday) or a per-date override (`date` + `templateId`; null fields are inherited from the template, and `dayOfWeek` is the date’s). `routine` blocks take tasks, `schedule` blocks (wake, meals) do not.',
  });
export type RoutineBlock = z.infer<typeof routineBlockSchema>;

export const exampleRoutineBlock: RoutineBlock = {
  _id: 'a4c2e1f0-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
  userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
  organisationId: null,
  templateId: null,
  dayOfWeek: 1,
  date: null,
  startTime: '09:00',
  endTime: '11:30',
  name: 'Deep Work',
  categoryId: null,
  content: null,
  blockType: 'routine',
  color: '#0ea5e9',
  updatedAt: 1764205200000,
};

const idRef = z.string().min(1).max(200);
const fields = {
  templateId: idRef.nullable().optional(),
  dayOfWeek: z.number().int().min(0).max(6).nullable().optional(),
  date: dateSchema.nullable().optional(),
  startTime: timeOfDaySchema.nullable().optional(),
  endTime: timeOfDaySchema.nullable().optional(),
  name: z.string().min(1).max(500).nullable().optional(),
  categoryId: idRef.nullable().optional(),
  content: z.string().max(100_000).nullable().optional(),
  blockType: z.enum(blockTypes).nullable().optional(),
  color: z.string().min(1).max(64).nullable().optional(),
};

export const routineBlockCreateSchema = z
  .object({ ...fields, organisationId: organisationIdInput.optional() })
  .meta({
    id: 'RoutineBlockCreate',
    description:
      'A template: `dayOfWeek`, `startTime`, `endTime`. An override: `date` + `templateId` and the fields that differ from the template. Override fields win: a body with `date` or `templateId` is an override, and a `dayOfWeek` sent with it must be the date’s day of the week (else 400 naming both); it is not stored.',
    example: {
      dayOfWeek: 1,
      startTime: '09:00',
      endTime: '11:30',
      name: 'Deep Work',
      blockType: 'routine',
    },
  });
export type RoutineBlockCreate = z.infer<typeof routineBlockCreateSchema>;

export const routineBlockUpdateSchema = z
  .object(fields)
  .meta({ id: 'RoutineBlockUpdate', example: { endTime: '12:00', color: null } });
export type RoutineBlockUpdate = z.infer<typeof routineBlockUpdateSchema>;

export const routineBlockListQuerySchema = z.object({
  date: dateSchema.optional(),
  templateId: z.string().optional(),
  categoryId: z.string().optional(),
  organisationId: organisationIdFilter.optional(),
  ...listQueryShape,
});
export type RoutineBlockListQuery = z.infer<typeof routineBlockListQuerySchema>;

export const routineBlockResponse = itemEnvelope(routineBlockSchema, exampleRoutineBlock);
export const routineBlockListResponse = listEnvelope(routineBlockSchema, exampleRoutineBlock);
