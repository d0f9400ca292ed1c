import { z } from 'zod';
import {
  exampleExternalLink,
  externalLinkSchema,
} from '../external-links/external-links.schemas.ts';
import {
  dateSchema,
  epochMsQuery,
  epochMsSchema,
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
  organisationIdInput,
} from '../public-api/public-api.schemas.ts';
import { inboxTriages, taskBuckets } from './tasks.table.ts';

export const taskSchema = z
  .object({
    _id: z.string(),
    userId: z.string(),
    title: z.string(),
    notes: z.string().nullable(),
    doneAt: z.number().nullable(),
    projectId: z.string().nullable(),
    categoryId: z.string().nullable(),
    containerId: z.string().nullable(),
    bucket: z.enum(taskBuckets),
    inboxTriage: z.enum(inboxTriages).nullable(),
    routineBlockId: z.string().nullable(),
    assigneeId: z.string().nullable(),
    doDate: z.string().nullable(),
    doEndDate: z.string().nullable(),
    dueDate: z.string().nullable(),
    scheduledAt: z.number().nullable(),
    organisationId: z.string().nullable(),
    labelIds: z.array(z.string()),
    externalLinks: z.array(externalLinkSchema),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .meta({ id: 'Task', description: 'A concrete action, optionally in a project.' });
export type Task = z.infer<typeof taskSchema>;

export const exampleTask: Task = {
  _id: '3f1e9a52-7c4b-4d8e-9f0a-6b2c1d3e4f50',
  userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
  title: 'Write the API reference',
  notes: 'Cover every endpoint with an example',
  doneAt: null,
  projectId: '7e57d004-2b97-4e7a-b45f-5387367791cd',
  categoryId: null,
  containerId: '9b2f3c1e-2a4d-4c55-9a8e-0f6d2b7c1a11',
  bucket: 'todo',
  inboxTriage: null,
  routineBlockId: null,
  assigneeId: null,
  doDate: '2026-11-30',
  doEndDate: null,
  dueDate: '2026-12-04',
  scheduledAt: null,
  organisationId: null,
  labelIds: [],
  externalLinks: [exampleExternalLink],
  createdAt: 1764201600000,
  updatedAt: 1764205200000,
};

const idRef = z.string().min(1).max(200);

const taskFields = {
  notes: z.string().max(100_000).nullable().optional(),
  doneAt: epochMsSchema.nullable().optional(),
  projectId: idRef.nullable().optional(),
  categoryId: idRef.nullable().optional(),
  containerId: idRef.nullable().optional(),
  bucket: z.enum(taskBuckets).optional(),
  inboxTriage: z.enum(inboxTriages).nullable().optional(),
  routineBlockId: idRef.nullable().optional(),
  assigneeId: idRef.nullable().optional(),
  doDate: dateSchema.nullable().optional(),
  doEndDate: dateSchema.nullable().optional(),
  dueDate: dateSchema.nullable().optional(),
  scheduledAt: epochMsSchema.nullable().optional(),
  organisationId: organisationIdInput.optional(),
  labelIds: z.array(idRef).max(100).nullable().optional(),
};

export const taskCreateSchema = z
  .object({ title: z.string().min(1).max(1000), ...taskFields })
  .meta({
    id: 'TaskCreate',
    example: {
      title: 'Write the API reference',
      projectId: '7e57d004-2b97-4e7a-b45f-5387367791cd',
      bucket: 'todo',
      doDate: '2026-11-30',
      dueDate: '2026-12-04',
    },
  });
export type TaskCreate = z.infer<typeof taskCreateSchema>;

export const taskUpdateSchema = z
  .object({ title: z.string().min(1).max(1000).optional(), ...taskFields })
  .meta({ id: 'TaskUpdate', example: { bucket: 'done', dueDate: null } });
export type TaskUpdate = z.infer<typeof taskUpdateSchema>;

const dateQuery = dateSchema;
export const taskListQuerySchema = z.object({
  bucket: z.enum(taskBuckets).optional(),
  inboxTriage: z.enum(inboxTriages).optional(),
  projectId: z.string().optional(),
  categoryId: z.string().optional(),
  containerId: z.string().optional(),
  organisationId: organisationIdFilter.optional(),
  assigneeId: z.string().optional(),
  routineBlockId: z.string().optional(),
  doDateEq: dateQuery.optional(),
  doDateGte: dateQuery.optional(),
  doDateLte: dateQuery.optional(),
  dueDateEq: dateQuery.optional(),
  dueDateGte: dateQuery.optional(),
  dueDateLte: dateQuery.optional(),
  doEndDateEq: dateQuery.optional(),
  doEndDateGte: dateQuery.optional(),
  doEndDateLte: dateQuery.optional(),
  scheduledAtEq: epochMsQuery.optional(),
  scheduledAtGte: epochMsQuery.optional(),
  scheduledAtLte: epochMsQuery.optional(),
  ...listQueryShape,
});
export type TaskListQuery = z.infer<typeof taskListQuerySchema>;

export const taskResponse = itemEnvelope(taskSchema, exampleTask);
export const taskListResponse = listEnvelope(taskSchema, exampleTask);
