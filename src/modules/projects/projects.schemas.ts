import { z } from 'zod';
import { categorySchemas } from '../categories/categories.schemas.ts';
import {
  exampleExternalLink,
  externalLinkSchema,
} from '../external-links/external-links.schemas.ts';
import { externalProviders } from '../external-links/external-links.table.ts';
import { labelSchemas } from '../labels/labels.schemas.ts';
import {
  booleanQuery,
  epochMsQuery,
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
} from '../public-api/public-api.schemas.ts';
import { projectStatuses } from './projects.table.ts';

export const projectSchema = z
  .object({
    _id: z.string(),
    userId: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    status: z.enum(projectStatuses),
    containerId: z.string(),
    organisationId: z.string().nullable(),
    categoryId: z.string().nullable(),
    category: categorySchemas.item.nullable(),
    labelIds: z.array(z.string()),
    labels: z.array(labelSchemas.item),
    externalLinks: z.array(externalLinkSchema),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Project', description: 'An effort with an outcome, in exactly one container.' });
export type Project = z.infer<typeof projectSchema>;

const projectCategory = { ...categorySchemas.example, entityType: 'project' as const };
export const exampleProject: Project = {
  _id: '7e57d004-2b97-4e7a-b45f-5387367791cd',
  userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
  title: 'Launch the public API',
  description: 'Ship /api/v1 with keys and docs',
  status: 'active',
  containerId: '9b2f3c1e-2a4d-4c55-9a8e-0f6d2b7c1a11',
  organisationId: null,
  categoryId: projectCategory._id,
  category: projectCategory,
  labelIds: [],
  labels: [],
  externalLinks: [exampleExternalLink],
  createdAt: 1764201600000,
  updatedAt: 1764205200000,
};

const idRef = z.string().min(1).max(200);

export const projectCreateSchema = z
  .object({
    title: z.string().min(1).max(1000),
    description: z.string().max(100_000).nullable().optional(),
    status: z.enum(projectStatuses).optional(),
    containerId: idRef,
    categoryId: idRef.nullable().optional(),
    labelIds: z.array(idRef).max(100).optional(),
  })
  .meta({
    id: 'ProjectCreate',
    example: {
      title: 'Launch the public API',
      status: 'active',
      containerId: '9b2f3c1e-2a4d-4c55-9a8e-0f6d2b7c1a11',
    },
  });
export type ProjectCreate = z.infer<typeof projectCreateSchema>;

export const projectUpdateSchema = z
  .object({
    title: z.string().min(1).max(1000).optional(),
    description: z.string().max(100_000).nullable().optional(),
    status: z.enum(projectStatuses).optional(),
    containerId: idRef.optional(),
    categoryId: idRef.nullable().optional(),
    labelIds: z.array(idRef).max(100).nullable().optional(),
  })
  .meta({ id: 'ProjectUpdate', example: { status: 'done', description: null } });
export type ProjectUpdate = z.infer<typeof projectUpdateSchema>;

export const projectListQuerySchema = z.object({
  status: z.enum(projectStatuses).optional(),
  containerId: z.string().optional(),
  organisationId: organisationIdFilter.optional(),
  categoryId: z.string().optional(),
  labelId: z.string().optional(),
  hasExternalLink: booleanQuery.optional(),
  externalLinkProvider: z.enum(externalProviders).optional(),
  createdAtEq: epochMsQuery.optional(),
  createdAtGte: epochMsQuery.optional(),
  createdAtLte: epochMsQuery.optional(),
  updatedAtEq: epochMsQuery.optional(),
  updatedAtGte: epochMsQuery.optional(),
  updatedAtLte: epochMsQuery.optional(),
  ...listQueryShape,
});
export type ProjectListQuery = z.infer<typeof projectListQuerySchema>;

export const projectResponse = itemEnvelope(projectSchema, exampleProject);
export const projectListResponse = listEnvelope(projectSchema, exampleProject);
