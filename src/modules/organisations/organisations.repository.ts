import { and, asc, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import {
  memberships,
  type OrganisationRow,
  organisations,
  users,
} from '../identity/identity.table.ts';

export async function listOrganisationRows(
  db: Executor,
  input: { ids: readonly string[]; limit: number; offset: number },
): Promise<OrganisationRow[]> {
  if (input.ids.length === 0) return [];
  return db
    .select()
    .from(organisations)
    .where(and(inArray(organisations.id, [...input.ids]), isNull(organisations.deletedAt)))
    .orderBy(desc(organisations.updatedAt), asc(organisations.id))
    .limit(input.limit)
    .offset(input.offset);
}

export async function findOrganisationRow(
  db: Executor,
  id: string,
): Promise<OrganisationRow | undefined> {
  const rows = await db
    .select()
    .from(organisations)
    .where(and(eq(organisations.id, id), isNull(organisations.deletedAt)))
    .limit(1);
  return rows[0];
}

/**
 * An organisation in the API namespace with the caller as its admin; undefined when the caller
 * already made one with this external id (live or deleted: ids are never reused).
 */
export async function insertApiOrganisation(
  db: Executor,
  input: { externalId: string; name: string; userId: string; role: string },
): Promise<OrganisationRow | undefined> {
  const rows = await db
    .insert(organisations)
    .values({ clerkId: input.externalId, name: input.name, source: 'api', createdBy: input.userId })
    .onConflictDoNothing()
    .returning();
  const org = rows[0];
  if (!org) return undefined;
  await db
    .insert(memberships)
    .values({ userId: input.userId, organisationId: org.id, role: input.role });
  return org;
}

export async function renameOrganisation(
  db: Executor,
  input: { id: string; name: string },
): Promise<OrganisationRow | undefined> {
  const rows = await db
    .update(organisations)
    .set({ name: input.name, updatedAt: new Date() })
    .where(and(eq(organisations.id, input.id), isNull(organisations.deletedAt)))
    .returning();
  return rows[0];
}

/** Soft delete (a tombstone, like a Clerk deletion): members lose access at once. */
export async function softDeleteOrganisation(db: Executor, id: string): Promise<void> {
  const now = new Date();
  await db
    .update(organisations)
    .set({ deletedAt: now, updatedAt: now })
    .where(eq(organisations.id, id));
  await db
    .update(memberships)
    .set({ deletedAt: now, updatedAt: now })
    .where(and(eq(memberships.organisationId, id), isNull(memberships.deletedAt)));
}

export async function listMemberRows(db: Executor, organisationIds: readonly string[]) {
  if (organisationIds.length === 0) return [];
  return db
    .select({
      organisationId: memberships.organisationId,
      userId: users.id,
      role: memberships.role,
      email: users.email,
      firstName: users.firstName,
      lastName: users.lastName,
      imageUrl: users.imageUrl,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(
      and(
        inArray(memberships.organisationId, [...organisationIds]),
        isNull(memberships.deletedAt),
        isNull(users.deletedAt),
      ),
    )
    .orderBy(asc(memberships.createdAt), asc(memberships.id));
}
