import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError, badRequest, errorResponses } from '../../http/errors.ts';
import { listOrganisationAccess } from '../identity/identity.repository.ts';
import { ADMIN_ROLE } from '../workspaces/workspace.service.ts';
import { listSecurityEvents } from './security-log.repository.ts';
import { securityLogPageSchema, securityLogQuerySchema } from './security-log.schemas.ts';
import type { SecurityEventRow } from './security-log.table.ts';
import type { SecurityAction, SecurityCause, SecurityEntry } from './security-log.ts';

/** Opaque keyset cursor: the (time, id) of the last entry of a page. */
function encodeCursor(row: SecurityEventRow): string {
  return Buffer.from(`${row.at}:${row.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: number; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const time = Number(at);
  if (!id || !Number.isSafeInteger(time) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw badRequest('Invalid cursor.', [{ path: 'query.cursor', message: 'not a cursor' }]);
  }
  return { at: time, id };
}

function present(row: SecurityEventRow) {
  return {
    id: row.id,
    time: row.at,
    actor: row.actorUserId
      ? { type: 'user' as const, userId: row.actorUserId, cause: null }
      : { type: 'system' as const, userId: null, cause: row.cause as SecurityCause },
    action: row.action as SecurityAction,
    target: { type: row.targetType as SecurityEntry['target']['type'], id: row.targetId },
    userId: row.userId,
    organisationId: row.organisationId,
    address: row.address,
    userAgent: row.userAgent,
    details: row.details ?? {},
  };
}

/**
 * `GET /api/settings/security-log` (Clerk session): the caller's own entries, plus the entries
 * of every organisation the caller administers, newest first, keyset-paginated.
 */
export async function securityLogRoutes(app: FastifyInstance): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().get(
    '',
    {
      schema: {
        tags: ['Settings'],
        summary:
          'What happened to your keys, connections and automations (and your organisations’)',
        security: [{ session: [] }],
        querystring: securityLogQuerySchema,
        response: { 200: securityLogPageSchema, ...errorResponses(400, 401, 403, 429, 503) },
      },
    },
    async (request) => {
      const user = request.sessionUser;
      if (!user)
        throw new AppError({ code: 'UNAUTHORIZED', status: 401, message: 'Sign in required.' });
      const q = request.query;
      const access = await listOrganisationAccess(app.database.db, user.userId);
      const rows = await listSecurityEvents(app.database.db, {
        userId: user.userId,
        organisationIds: access.filter((a) => a.role === ADMIN_ROLE).map((a) => a.organisationId),
        ...(q.action ? { actions: Array.isArray(q.action) ? q.action : [q.action] } : {}),
        ...(q.targetType ? { targetType: q.targetType } : {}),
        ...(q.targetId ? { targetId: q.targetId } : {}),
        ...(q.cursor ? { before: decodeCursor(q.cursor) } : {}),
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        data: page.map(present),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null,
      };
    },
  );
}
