import { z } from 'zod';
import {
  exampleExternalLink,
  externalLinkSchema,
} from '../external-links/external-links.schemas.ts';
import {
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
  organisationIdInput,
} from '../public-api/public-api.schemas.ts';

export const containerSchema = z
  .object({
    _id: z.string(),
    userId: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    organisationId: z.string().nullable(),
    externalLinks: z.array(externalLinkSchema),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Container', description: 'An area of life or work; holds projects.' });
export type Container = z.infer<typeof containerSchema>;

export const exampleContainer: Container = {
  _id: '9b2f3c1e-2a4d-4c55-9a8e-0f6d2b7c1a11',
  userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
  name: 'Work',
  description: 'Everything for the day job',
  organisationId: null,
  externalLinks: [exampleExternalLink],
  createdAt: 1764201600000,
  updatedAt: 1764205200000,
};

export const containerCreateSchema = z
  .object({
    name: z.string().min(1).max(500),
    description: z.string().max(20_000).nullable().optional(),
    organisationId: organisationIdInput.optional(),
  })
  .meta({
    id: 'ContainerCreate',
    example: { name: 'Work', description: 'Everything for the day job' },
  });
export type ContainerCreate = z.infer<typeof containerCreateSchema>;

export const containerUpdateSchema = z
  .object({
    name: z.string().min(1).max(500).optional(),
    description: z.string().max(20_000).nullable().optional(),
  })
  .meta({ id: 'ContainerUpdate', example: { description: null } });
export type ContainerUpdate = z.infer<typeof containerUpdateSchema>;

export const containerListQuerySchema = z.object({
  organisationId: organisationIdFilter.optional(),
  ...listQueryShape,
});
export type ContainerListQuery = z.infer<typeof containerListQuerySchema>;

export const containerResponse = itemEnvelope(containerSchema, exampleContainer);
export const containerListResponse = listEnvelope(containerSchema, exampleContainer);
