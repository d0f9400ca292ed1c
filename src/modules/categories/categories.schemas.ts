import { z } from 'zod';
import {
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
  organisationIdInput,
} from '../public-api/public-api.schemas.ts';
import { categoryEntityTypes } from './categories.table.ts';

export const categorySchema = z
  .object({
    _id: z.string(),
    name: z.string(),
    color: z.string().nullable(),
    entityType: z.enum(categoryEntityTypes),
    organisationId: z.string().nullable(),
  })
  .meta({ id: 'Category', description: 'Colours and filters items of one entity type.' });
export type Category = z.infer<typeof categorySchema>;

export const exampleCategory: Category = {
  _id: '2c1d7e0a-6b5f-4e3d-8c2b-1a0f9e8d7c6b',
  name: 'Deep work',
  color: '#4f46e5',
  entityType: 'task',
  organisationId: null,
};

const colorSchema = z.string().min(1).max(64);

export const categoryCreateSchema = z
  .object({
    name: z.string().min(1).max(200),
    color: colorSchema.nullable().optional(),
    entityType: z.enum(categoryEntityTypes),
    organisationId: organisationIdInput.optional(),
  })
  .meta({
    id: 'CategoryCreate',
    example: { name: 'Deep work', color: '#4f46e5', entityType: 'task' },
  });
export type CategoryCreate = z.infer<typeof categoryCreateSchema>;

export const categoryUpdateSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    color: colorSchema.nullable().optional(),
    entityType: z.enum(categoryEntityTypes).optional(),
  })
  .meta({ id: 'CategoryUpdate', example: { color: null } });
export type CategoryUpdate = z.infer<typeof categoryUpdateSchema>;

export const categoryListQuerySchema = z.object({
  entityType: z.enum(categoryEntityTypes).optional(),
  organisationId: organisationIdFilter.optional(),
  ...listQueryShape,
});
export type CategoryListQuery = z.infer<typeof categoryListQuerySchema>;

export const categoryResponse = itemEnvelope(categorySchema, exampleCategory);
export const categoryListResponse = listEnvelope(categorySchema, exampleCategory);
