import { and, eq, inArray, isNull, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { memberships, organisations, users } from '../identity/identity.table.ts';

/** `column` is one of the workspaces: an equality for one (index-friendly), ANY for several. */
export function inWorkspaces(column: PgColumn, workspaceIds: readonly string[]): SQL {
  if (workspaceIds.length === 0) return sql`false`;
  if (workspaceIds.length === 1) return eq(column, workspaceIds[0] as string);
  return inArray(column, [...workspaceIds]);
}

/** The internal id of a live organisation by its external (Clerk) id. */
export async function findOrganisationIdByClerkId(
  db: Executor,
  clerkId: string,
): Promise<string | undefined> {
  const rows = await db
    .select({ id: organisations.id })
    .from(organisations)
    .where(and(eq(organisations.clerkId, clerkId), isNull(organisations.deletedAt)))
    .limit(1);
  return rows[0]?.id;
}

/** Whether a user is a live member of an organisation (task assignees). */
export async function isLiveMember(
  db: Executor,
  input: { userId: string; organisationId: string },
): Promise<boolean> {
  const rows = await db
    .select({ id: memberships.id })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(
      and(
        eq(memberships.userId, input.userId),
        eq(memberships.organisationId, input.organisationId),
        isNull(memberships.deletedAt),
        isNull(users.deletedAt),
      ),
    )
    .limit(1);
  return rows.length > 0;
}
