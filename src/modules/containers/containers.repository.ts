import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { inWorkspaces, inWorkspacesOfUser } from '../workspaces/workspace.repository.ts';
import { type ContainerRow, containers } from './containers.table.ts';

export async function listContainerRows(
  db: Executor,
  input: { workspaceIds: readonly string[]; limit: number; offset: number },
): Promise<ContainerRow[]> {
  const where: SQL[] = [inWorkspaces(containers.workspaceId, input.workspaceIds)];
  return db
    .select()
    .from(containers)
    .where(and(...where))
    .orderBy(desc(containers.updatedAt), asc(containers.id))
    .limit(input.limit)
    .offset(input.offset);
}

export async function findContainerRow(
  db: Executor,
  input: {
    id: string;
    /** The workspaces to look in, or those a user reaches (`inWorkspacesOfUser`). */
    workspaceIds: readonly string[] | { ofUser: string };
    forUpdate?: boolean;
  },
): Promise<ContainerRow | undefined> {
  const scope = input.workspaceIds;
  const query = db
    .select()
    .from(containers)
    .where(
      and(
        eq(containers.id, input.id),
        'ofUser' in scope
          ? inWorkspacesOfUser(db, containers.workspaceId, scope.ofUser)
          : inWorkspaces(containers.workspaceId, scope),
      ),
    )
    .limit(1);
  const rows = input.forUpdate ? await query.for('update') : await query;
  return rows[0];
}

export async function insertContainer(
  db: Executor,
  values: typeof containers.$inferInsert,
): Promise<ContainerRow> {
  const rows = await db.insert(containers).values(values).returning();
  return rows[0] as ContainerRow;
}

export async function updateContainerRow(
  db: Executor,
  id: string,
  values: Partial<typeof containers.$inferInsert>,
): Promise<ContainerRow | undefined> {
  const rows = await db.update(containers).set(values).where(eq(containers.id, id)).returning();
  return rows[0];
}

export async function deleteContainerRow(db: Executor, id: string): Promise<void> {
  await db.delete(containers).where(eq(containers.id, id));
}

/** The oldest container of a workspace with this name, compared case-insensitively. */
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
