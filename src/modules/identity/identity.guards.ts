import type { FastifyRequest } from 'fastify';
import {
  activeOrganisationRequired,
  organisationAdminRequired,
  sessionUnauthorized,
} from './identity.errors.ts';

export const orgAdminRole = 'org:admin';

/**
 * preHandler for settings routes that only admins of the active organisation may call:
 * `{ preHandler: requireOrgAdmin }`. Relies on `sessionAuth` having set `request.sessionUser`
 * (role read from the database on this very request, so a demotion applies at once).
 * 403 FORBIDDEN without an active organisation or when the role is not `org:admin`.
 */
export async function requireOrgAdmin(request: FastifyRequest): Promise<void> {
  const session = request.sessionUser;
  if (!session) throw sessionUnauthorized();
  if (!session.activeOrganisationId) throw activeOrganisationRequired();
  if (session.activeOrgRole !== orgAdminRole) throw organisationAdminRequired();
}
