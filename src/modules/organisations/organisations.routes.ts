import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses } from '../../http/errors.ts';
import { idempotencyHeaders } from '../idempotency/idempotency.schemas.ts';
import { deletedResponse, idParamsSchema } from '../public-api/public-api.schemas.ts';
import { requestActor } from '../workspaces/workspace.service.ts';
import {
  organisationCreatedResponse,
  organisationCreateSchema,
  organisationGetQuerySchema,
  organisationListQuerySchema,
  organisationListResponse,
  organisationResponse,
  organisationUpdateSchema,
} from './organisations.schemas.ts';
import {
  createOrganisation,
  deleteOrganisation,
  getOrganisation,
  listOrganisations,
  updateOrganisation,
} from './organisations.service.ts';

const common = { tags: ['API'], security: [{ apiKey: [] }] };
const params = idParamsSchema.extend({
  id: idParamsSchema.shape.id.meta({ description: 'The organisation `_id` or its external `id`.' }),
});

export const organisationRoutes: FastifyPluginAsync = async (app) => {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = app.database.db;

  r.get(
    '',
    {
      schema: {
        ...common,
        summary: 'List the caller’s organisations',
        querystring: organisationListQuerySchema,
        response: { 200: organisationListResponse, ...errorResponses(400, 401, 403, 429) },
      },
    },
    async (request) => ({
      data: await listOrganisations(db, await requestActor(request, db), request.query),
    }),
  );

  r.post(
    '',
    {
      schema: {
        ...common,
        summary: 'Create an organisation (the caller becomes its admin)',
        headers: idempotencyHeaders,
        body: organisationCreateSchema,
        response: {
          201: organisationCreatedResponse,
          ...errorResponses(400, 401, 403, 409, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const data = await createOrganisation(db, await requestActor(request, db), request.body);
      return reply.code(201).send({ data });
    },
  );

  r.get(
    '/:id',
    {
      schema: {
        ...common,
        summary: 'Get an organisation by `_id` or external `id`',
        params,
        querystring: organisationGetQuerySchema,
        response: { 200: organisationResponse, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => ({
      data: await getOrganisation(
        db,
        await requestActor(request, db),
        request.params.id,
        request.query,
      ),
    }),
  );

  r.patch(
    '/:id',
    {
      schema: {
        ...common,
        summary: 'Rename an organisation (admins only)',
        params,
        body: organisationUpdateSchema,
        response: { 200: organisationCreatedResponse, ...errorResponses(400, 401, 403, 404, 429) },
      },
    },
    async (request) => ({
      data: await updateOrganisation(
        db,
        await requestActor(request, db),
        request.params.id,
        request.body,
      ),
    }),
  );

  r.delete(
    '/:id',
    {
      schema: {
        ...common,
        summary: 'Delete an organisation (admins only)',
        description:
          'Soft-deletes the organisation: every member loses access to it and its items at once.',
        params,
        response: { 200: deletedResponse, ...errorResponses(401, 403, 404, 429) },
      },
    },
    async (request) => {
      const id = await deleteOrganisation(db, await requestActor(request, db), request.params.id);
      return { data: { _id: id, deleted: true as const } };
    },
  );
};
