import type { Executor } from '../../db/database.ts';
import { notFound } from '../../http/errors.ts';
import { listOrganisationAccess } from '../identity/identity.repository.ts';
import { findUserById, listOrganisationsByIds } from './api-keys.repository.ts';

/** The user a key acts as and the organisations it reaches now (membership checked live). */
export async function loadMe(db: Executor, userId: string) {
  const user = await findUserById(db, userId);
  if (!user || user.deletedAt) throw notFound('User');
  const access = await listOrganisationAccess(db, userId);
  const orgs = await listOrganisationsByIds(
    db,
    access.map((a) => a.organisationId),
  );
  const byId = new Map(orgs.map((o) => [o.id, o]));
  const organisations = access.flatMap((a) => {
    const org = byId.get(a.organisationId);
    return org ? [{ _id: org.id, id: org.clerkId, name: org.name, role: a.role }] : [];
  });
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
