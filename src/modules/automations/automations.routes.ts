import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from '../../http/errors.ts';
import { requestContext } from '../security-log/security-log.ts';
import { requireWorkspaceAdmin, sessionWorkspace } from '../workspaces/workspace.context.ts';
import {
  adHocDryRunBodySchema,
  automationCreateSchema,
  automationSchema,
  automationUpdateSchema,
  backfillSchema,
  dryRunBodySchema,
  dryRunResultSchema,
  idParams,
  inboxEventSchema,
  inboxListQuery,
  pageQuery,
  replayBodySchema,
  runListQuery,
  runSchema,
} from './automations.schemas.ts';
import {
  createAutomation,
  deleteAutomation,
  dryRunDefinition,
  dryRunSaved,
  getAutomation,
  listAutomations,
  listBackfills,
  listRunHistory,
  listWorkspaceEvents,
  replayEvents,
  setAutomationEnabled,
  updateAutomation,
} from './automations.service.ts';

const tags = ['Settings: automations'];
const security = [{ session: [] }];
const data = <T extends z.ZodType>(schema: T) => z.object({ data: schema });

/**
 * `/api/settings/automations`: registered inside the settings scope (Clerk session). The
 * workspace is the session's active organisation (admins only) or the personal workspace.
 */
export async function automationSettingsRoutes(app: FastifyInstance): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.addHook('preHandler', requireWorkspaceAdmin);
  const deps = () => app.automations;

  r.get(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'List the workspace automations',
        querystring: pageQuery,
        response: { 200: data(z.array(automationSchema)), ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return { data: await listAutomations(deps(), { workspace, ...request.query }) };
    },
  );

  r.post(
    '/',
    {
      schema: {
        tags,
        security,
        summary: 'Create an automation',
        description:
          'Validated on save: unknown fields in templates or conditions, and conditions that do not parse, are a 400 with errors[]. An enabled Linear rule registers the team webhook it needs.',
        body: automationCreateSchema,
        response: { 201: data(automationSchema), ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request, reply) => {
      const { workspace, userId } = sessionWorkspace(request);
      const created = await createAutomation(deps(), {
        workspace,
        userId,
        body: request.body,
        audit: requestContext(request),
      });
      return reply.code(201).send({ data: created });
    },
  );

  r.post(
    '/dry-run',
    {
      schema: {
        tags,
        security,
        summary: 'Evaluate an unsaved rule against a stored event or a sample payload',
        body: adHocDryRunBodySchema,
        response: { 200: data(dryRunResultSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { workspace, userId } = sessionWorkspace(request);
      const { definition, ...rest } = request.body;
      return { data: await dryRunDefinition(deps(), { workspace, userId, definition, ...rest }) };
    },
  );

  r.get(
    '/runs',
    {
      schema: {
        tags,
        security,
        summary: 'Run history of the workspace (per event, per rule, by status)',
        querystring: runListQuery,
        response: { 200: data(z.array(runSchema)), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return { data: await listRunHistory(deps(), { workspace, ...request.query }) };
    },
  );

  r.get(
    '/events',
    {
      schema: {
        tags,
        security,
        summary: 'Provider events received for this workspace (state=failed: the dead letters)',
        querystring: inboxListQuery,
        response: { 200: data(z.array(inboxEventSchema)), ...errorResponses(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return { data: await listWorkspaceEvents(deps(), { workspace, ...request.query }) };
    },
  );

  r.post(
    '/replay',
    {
      schema: {
        tags,
        security,
        summary: 'Re-run dead-lettered or selected events',
        description:
          'Runs that already succeeded are final and are not repeated; failed, dead and non-matching runs are evaluated again.',
        body: replayBodySchema,
        response: {
          200: data(z.object({ requeued: z.array(z.uuid()) })),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      const requeued = await replayEvents(deps(), {
        workspace,
        ...request.body,
        audit: requestContext(request),
      });
      app.inboxWorker.wake();
      return { data: { requeued } };
    },
  );

  r.get(
    '/backfills',
    {
      schema: {
        tags,
        security,
        summary: 'Progress of the Linear backfills of linked containers',
        response: { 200: data(z.array(backfillSchema)), ...errorResponses(401, 403, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return { data: await listBackfills(deps(), workspace) };
    },
  );

  r.get(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Get an automation',
        params: idParams,
        response: { 200: data(automationSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return { data: await getAutomation(deps(), workspace, request.params.id) };
    },
  );

  r.patch(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Update an automation (the whole definition is validated again)',
        params: idParams,
        body: automationUpdateSchema,
        response: { 200: data(automationSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return {
        data: await updateAutomation(deps(), {
          workspace,
          id: request.params.id,
          body: request.body,
          audit: requestContext(request),
        }),
      };
    },
  );

  for (const [path, enabled] of [
    ['/:id/enable', true],
    ['/:id/disable', false],
  ] as const) {
    r.post(
      path,
      {
        schema: {
          tags,
          security,
          summary: enabled ? 'Enable an automation' : 'Disable an automation',
          params: idParams,
          response: { 200: data(automationSchema), ...errorResponses(400, 401, 403, 404, 503) },
        },
      },
      async (request) => {
        const { workspace } = sessionWorkspace(request);
        return {
          data: await setAutomationEnabled(deps(), {
            workspace,
            id: request.params.id,
            enabled,
            audit: requestContext(request),
          }),
        };
      },
    );
  }

  r.delete(
    '/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete an automation (its run history goes with it)',
        params: idParams,
        response: {
          200: data(z.object({ id: z.uuid(), deleted: z.literal(true) })),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      await deleteAutomation(deps(), {
        workspace,
        id: request.params.id,
        audit: requestContext(request),
      });
      return { data: { id: request.params.id, deleted: true as const } };
    },
  );

  r.post(
    '/:id/dry-run',
    {
      schema: {
        tags,
        security,
        summary:
          'Evaluate a saved rule against a stored event or a sample payload, without effects',
        params: idParams,
        body: dryRunBodySchema,
        response: { 200: data(dryRunResultSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { workspace, userId } = sessionWorkspace(request);
      return {
        data: await dryRunSaved(deps(), {
          workspace,
          userId,
          id: request.params.id,
          ...request.body,
        }),
      };
    },
  );

  r.get(
    '/:id/runs',
    {
      schema: {
        tags,
        security,
        summary: 'Run history of one automation',
        params: idParams,
        querystring: runListQuery.omit({ automationId: true }),
        response: { 200: data(z.array(runSchema)), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => {
      const { workspace } = sessionWorkspace(request);
      return {
        data: await listRunHistory(deps(), {
          workspace,
          automationId: request.params.id,
          ...request.query,
        }),
      };
    },
  );
}
