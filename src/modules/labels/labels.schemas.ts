import { z } from 'zod';
import {
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
  organisationIdInput,
} from '../public-api/public-api.schemas.ts';
import { labelEntityTypes } from './labels.table.ts';

export const labelSchema = z
  .object({
    _id: z.string(),
    name: z.string(),
    color: z.string().nullable(),
    entityType: z.enum(labelEntityTypes),
    organisationId: z.string().nullable(),
  })
  .meta({ id: 'Label', description: 'Tags projects or tasks; filters lists.' });
export type Label = z.infer<typeof labelSchema>;

export const exampleLabel: Label = {
  _id: '2c1d7e0a-6b5f-4e3d-8c2b-1a0f9e8d7c6b',
  name: 'Waiting on client',
  color: '#f59e0b',
  entityType: 'task',
  organisationId: null,
};

const colorSchema = z.string().min(1).max(64);

export const labelCreateSchema = z
  .object({
    name: z.string().min(1).max(200),
    color: colorSchema.nullable().optional(),
    entityType: z.enum(labelEntityTypes),
    organisationId: organisationIdInput.optional(),
  })
  .meta({
    id: 'LabelCreate',
    example: { name: 'Waiting on client', color: '#f59e0b', entityType: 'task' },
  });
export type LabelCreate = z.infer<typeof labelCreateSchema>;

export const labelUpdateSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    color: colorSchema.nullable().optional(),
    entityType: z.enum(labelEntityTypes).optional(),
  })
  .meta({ id: 'LabelUpdate', example: { color: null } });
export type LabelUpdate = z.infer<typeof labelUpdateSchema>;

export const labelListQuerySchema = z.object({
  entityType: z.enum(labelEntityTypes).optional(),
  organisationId: organisationIdFilter.optional(),
  ...listQueryShape,
});
export type LabelListQuery = z.infer<typeof labelListQuerySchema>;

export const labelResponse = itemEnvelope(labelSchema, exampleLabel);
export const labelListResponse = listEnvelope(labelSchema, exampleLabel);
