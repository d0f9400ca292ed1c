import { and, eq, inArray, isNull, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { liveOrganisationIdsOf } from '../identity/identity.repository.ts';
import { memberships, organisations, users } from '../identity/identity.table.ts';

/** `column` is one of the workspaces: an equality for one (index-friendly), ANY for several. */
export function inWorkspaces(column: PgColumn, workspaceIds: readonly string[]): SQL {
  if (workspaceIds.length === 0) return sql`false`;
  if (workspaceIds.length === 1) return eq(column, workspaceIds[0] as string);
  return inArray(column, [...workspaceIds]);
}

/**
 * `inWorkspaces` for the workspaces a user reaches with no API key involved (the automation
 * engine's acting user: `visibleWorkspaceIds(await loadActor(db, userId))`), worked out in the
 * statement that uses it instead of a read before it.
 */
export function inWorkspacesOfUser(db: Executor, column: PgColumn, userId: string): SQL {
  return or(eq(column, userId), inArray(column, liveOrganisationIdsOf(db, userId))) as SQL;
}

/**
 * The internal id of a live organisation, among `organisationIds` (the caller's), by its
 * external id. Scoped to the caller's organisations because an API-created organisation's
 * external id is only unique per creator, and so that no answer depends on others' ids.
 */
export async function findOrganisationIdByExternalId(
  db: Executor,
  input: { externalId: string; organisationIds: readonly string[] },
): Promise<string | undefined> {
  if (input.organisationIds.length === 0) return undefined;
  const rows = await db
    .select({ id: organisations.id })
    .from(organisations)
    .where(
      and(
        eq(organisations.clerkId, input.externalId),
        inArray(organisations.id, [...input.organisationIds]),
        isNull(organisations.deletedAt),
      ),
    )
    .orderBy(organisations.source)
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
