import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { containers } from '../containers/containers.table.ts';
import { memberships, users } from '../identity/identity.table.ts';
import { projects } from '../projects/projects.table.ts';

/**
 * Look-ups the engine needs that the public API's services do not offer (find by name).
 * Writes never happen here: they go through the public API's services.
 */
export async function findContainerIdByName(
  db: Executor,
  input: { workspaceId: string; name: string },
): Promise<string | null> {
  const [row] = await db
    .select({ id: containers.id })
    .from(containers)
    .where(
      and(
        eq(containers.workspaceId, input.workspaceId),
        sql`lower(${containers.name}) = lower(${input.name})`,
      ),
    )
    .orderBy(containers.createdAt, containers.id)
    .limit(1);
  return row?.id ?? null;
}

export async function containerInWorkspace(
  db: Executor,
  input: { workspaceId: string; id: string },
): Promise<boolean> {
  const [row] = await db
    .select({ id: containers.id })
    .from(containers)
    .where(and(eq(containers.workspaceId, input.workspaceId), eq(containers.id, input.id)));
  return row !== undefined;
}

export async function findProjectIdByTitle(
  db: Executor,
  input: { containerId: string; title: string },
): Promise<string | null> {
  const [row] = await db
    .select({ id: projects.id })
    .from(projects)
    .where(
      and(
        eq(projects.containerId, input.containerId),
        sql`lower(${projects.title}) = lower(${input.title})`,
      ),
    )
    .orderBy(projects.createdAt, projects.id)
    .limit(1);
  return row?.id ?? null;
}

/** A live member of the organisation with this email (case-insensitive). */
export async function findMemberIdByEmail(
  db: Executor,
  input: { organisationId: string; email: string },
): Promise<string | null> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .innerJoin(memberships, eq(memberships.userId, users.id))
    .where(
      and(
        eq(memberships.organisationId, input.organisationId),
        isNull(memberships.deletedAt),
        isNull(users.deletedAt),
        sql`lower(${users.email}) = ${input.email.toLowerCase()}`,
      ),
    )
    .limit(1);
  return row?.id ?? null;
}
