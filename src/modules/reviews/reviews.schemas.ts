import { z } from 'zod';
import {
  dateSchema,
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  timeOfDaySchema,
} from '../public-api/public-api.schemas.ts';
import { reviewTypes } from './reviews.table.ts';

export const reviewSchema = z
  .object({
    _id: z.string(),
    userId: z.string(),
    date: z.string(),
    type: z.enum(reviewTypes),
    wakeTime: z.string().nullable(),
    sleepTime: z.string().nullable(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Review', description: 'A daily … annual review; one per user, date and type.' });
export type Review = z.infer<typeof reviewSchema>;

export const exampleReview: Review = {
  _id: 'c7d8e9f0-1a2b-4c3d-8e4f-5a6b7c8d9e0f',
  userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
  date: '2026-11-27',
  type: 'daily',
  wakeTime: '06:45',
  sleepTime: '23:00',
  updatedAt: 1764205200000,
};

export const reviewCreateSchema = z
  .object({
    date: dateSchema,
    type: z.enum(reviewTypes),
    wakeTime: timeOfDaySchema.nullable().optional(),
    sleepTime: timeOfDaySchema.nullable().optional(),
  })
  .meta({
    id: 'ReviewCreate',
    example: { date: '2026-11-27', type: 'daily', wakeTime: '06:45', sleepTime: '23:00' },
  });
export type ReviewCreate = z.infer<typeof reviewCreateSchema>;

export const reviewUpdateSchema = z
  .object({
    date: dateSchema.optional(),
    type: z.enum(reviewTypes).optional(),
    wakeTime: timeOfDaySchema.nullable().optional(),
    sleepTime: timeOfDaySchema.nullable().optional(),
  })
  .meta({ id: 'ReviewUpdate', example: { sleepTime: '22:30' } });
export type ReviewUpdate = z.infer<typeof reviewUpdateSchema>;

export const reviewListQuerySchema = z.object({
  date: dateSchema.optional(),
  type: z.enum(reviewTypes).optional(),
  ...listQueryShape,
});
export type ReviewListQuery = z.infer<typeof reviewListQuerySchema>;

export const reviewResponse = itemEnvelope(reviewSchema, exampleReview);
export const reviewListResponse = listEnvelope(reviewSchema, exampleReview);
