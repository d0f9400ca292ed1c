import type { FastifyRequest } from 'fastify';
import { sessionUnauthorized } from '../identity/identity.errors.ts';
import { requireOrgAdmin } from '../identity/identity.guards.ts';

/**
 * A workspace: an organisation, or one user's personal workspace. It has the shape of the
 * `organisation_id` / `user_id` column pair the settings tables store (exactly one of the two
 * set), so rows and filters read it as is.
 */
export type Workspace =
  | { organisationId: string; userId: null }
  | { organisationId: null; userId: string };

/** The workspace of a row that stores one (a connection, an automation). */
export function workspaceOfRow(row: {
  organisationId: string | null;
  userId: string | null;
}): Workspace {
  if (row.organisationId) return { organisationId: row.organisationId, userId: null };
  // The tables' checks make one of the two non-null.
  return { organisationId: null, userId: row.userId ?? '' };
}

/** The planning tables' `workspace_id` of a workspace: the organisation's id, or the user's. */
export function workspaceIdOf(workspace: Workspace): string {
  return workspace.organisationId ?? workspace.userId;
}

/**
 * The workspace a settings request (Clerk session) acts on: the session's active
 * organisation, else the user's personal workspace.
 */
export function sessionWorkspace(request: FastifyRequest): {
  workspace: Workspace;
  userId: string;
} {
  const session = request.sessionUser;
  if (!session) throw sessionUnauthorized();
  return {
    userId: session.userId,
    workspace: session.activeOrganisationId
      ? { organisationId: session.activeOrganisationId, userId: null }
      : { organisationId: null, userId: session.userId },
  };
}

/** Changes to an organisation's settings need its admins; a personal workspace, its owner. */
export async function requireWorkspaceAdmin(request: FastifyRequest): Promise<void> {
  if (request.sessionUser?.activeOrganisationId) await requireOrgAdmin(request);
}
