import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Executor } from '../../db/database.ts';
import { errorResponses } from '../../http/errors.ts';
import { idempotencyHeaders } from '../idempotency/idempotency.schemas.ts';
import { type Actor, requestActor } from '../workspaces/workspace.service.ts';
import { deletedResponse } from './public-api.schemas.ts';

/**
 * The five routes every /api/v1 resource has (list, create, get, update, delete), each with
 * zod schemas for every part and every status. Only the service functions differ.
 */
export interface CrudDefinition<
  Query extends z.ZodType,
  Create extends z.ZodType,
  Update extends z.ZodType,
  Item,
> {
  /** e.g. 'task' / 'tasks', for summaries. */
  singular: string;
  plural: string;
  /** Path parameter (`id`, or `date` for daily notes) and its schema. */
  param?: { name: string; schema: z.ZodString; description: string };
  listQuery: Query;
  createBody: Create;
  updateBody: Update;
  itemResponse: z.ZodType;
  listResponse: z.ZodType;
  /** Status codes (besides auth's 401/403/429) each operation can answer. */
  createErrors?: number[];
  updateErrors?: number[];
  deleteErrors?: number[];
  deleteNote?: string;
  list(db: Executor, actor: Actor, query: z.output<Query>): Promise<Item[]>;
  create(db: Executor, actor: Actor, body: z.output<Create>): Promise<Item>;
  get(db: Executor, actor: Actor, id: string): Promise<Item>;
  update(db: Executor, actor: Actor, id: string, body: z.output<Update>): Promise<Item>;
  /** Deletes; may return the deleted item's `_id` when the path key is not the id. */
  remove(db: Executor, actor: Actor, id: string): Promise<unknown>;
}

export function registerCrudRoutes<
  Query extends z.ZodType,
  Create extends z.ZodType,
  Update extends z.ZodType,
  Item,
>(app: FastifyInstance, def: CrudDefinition<Query, Create, Update, Item>): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const db = app.database.db;
  const common = { tags: ['API'], security: [{ apiKey: [] }] };
  const paramName = def.param?.name ?? 'id';
  const params = z.object({
    [paramName]: (def.param?.schema ?? z.string().min(1).max(200)).meta({
      description: def.param?.description ?? `The ${def.singular} \`_id\`.`,
    }),
  });
  const idOf = (p: unknown): string => String((p as Record<string, unknown>)[paramName]);
  const auth = [401, 403, 429];

  r.get(
    '',
    {
      schema: {
        ...common,
        summary: `List ${def.plural}`,
        description:
          'Ordered by updatedAt descending, ties by _id; `limit` (max 500) and `offset` page through.',
        querystring: def.listQuery,
        response: { 200: def.listResponse, ...errorResponses(400, ...auth) },
      },
    },
    async (request) => ({
      data: await def.list(db, await requestActor(request, db), request.query as z.output<Query>),
    }),
  );

  r.post(
    '',
    {
      schema: {
        ...common,
        summary: `Create a ${def.singular}`,
        headers: idempotencyHeaders,
        body: def.createBody,
        response: {
          201: def.itemResponse,
          ...errorResponses(400, ...auth, 409, 422, ...(def.createErrors ?? [])),
        },
      },
    },
    async (request, reply) => {
      const data = await def.create(
        db,
        await requestActor(request, db),
        request.body as z.output<Create>,
      );
      return reply.code(201).send({ data });
    },
  );

  r.get(
    `/:${paramName}`,
    {
      schema: {
        ...common,
        summary: `Get a ${def.singular}`,
        params,
        response: { 200: def.itemResponse, ...errorResponses(...auth, 404) },
      },
    },
    async (request) => ({
      data: await def.get(db, await requestActor(request, db), idOf(request.params)),
    }),
  );

  r.patch(
    `/:${paramName}`,
    {
      schema: {
        ...common,
        summary: `Update a ${def.singular}`,
        description: 'Partial update: omitted fields are unchanged, `null` clears a field.',
        params,
        body: def.updateBody,
        response: {
          200: def.itemResponse,
          ...errorResponses(400, ...auth, 404, ...(def.updateErrors ?? [])),
        },
      },
    },
    async (request) => ({
      data: await def.update(
        db,
        await requestActor(request, db),
        idOf(request.params),
        request.body as z.output<Update>,
      ),
    }),
  );

  r.delete(
    `/:${paramName}`,
    {
      schema: {
        ...common,
        summary: `Delete a ${def.singular}`,
        ...(def.deleteNote ? { description: def.deleteNote } : {}),
        params,
        response: {
          200: deletedResponse,
          ...errorResponses(...auth, 404, ...(def.deleteErrors ?? [])),
        },
      },
    },
    async (request) => {
      const id = idOf(request.params);
      const deletedId = await def.remove(db, await requestActor(request, db), id);
      return {
        data: { _id: typeof deletedId === 'string' ? deletedId : id, deleted: true as const },
      };
    },
  );
}
