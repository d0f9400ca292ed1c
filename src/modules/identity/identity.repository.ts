import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { memberships, organisations } from './identity.table.ts';

export interface OrganisationAccess {
  organisationId: string;
  role: string;
}

/**
 * The organisations a user can currently see: live memberships of live organisations.
 * Called per request by both auth layers so that an ended membership takes effect at once.
 */
export async function listOrganisationAccess(
  db: Executor,
  userId: string,
): Promise<OrganisationAccess[]> {
  return db
    .select({ organisationId: memberships.organisationId, role: memberships.role })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.organisationId))
    .where(
      and(
        eq(memberships.userId, userId),
        isNull(memberships.deletedAt),
        isNull(organisations.deletedAt),
      ),
    );
}
