import type { Executor } from '../../db/database.ts';
import { notFound } from '../../http/errors.ts';
import type { Actor } from '../workspaces/workspace.service.ts';
import { findUserById, listOrganisationsByIds } from './api-keys.repository.ts';

/**
 * The user a key acts as and the organisations it reaches now (membership checked live; a
 * workspace-bound key reaches its own organisation only, see workspace.service.ts).
 */
export async function loadMe(db: Executor, actor: Actor) {
  const user = await findUserById(db, actor.userId);
  if (!user || user.deletedAt) throw notFound('User');
  const orgs = await listOrganisationsByIds(db, [...actor.organisations.keys()]);
  const organisations = orgs.map((org) => ({
    _id: org.id,
    id: org.clerkId,
    name: org.name,
    role: actor.organisations.get(org.id) ?? '',
  }));
  organisations.sort((a, b) => a.name.localeCompare(b.name) || a._id.localeCompare(b._id));
  return {
    user: {
      _id: user.id,
      clerkUserId: user.clerkId,
      email: user.email,
      firstName: user.firstName,
      lastName: user.lastName,
      imageUrl: user.imageUrl,
    },
    organisations,
  };
}
