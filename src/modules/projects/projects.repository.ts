import { and, arrayContains, asc, desc, eq, gte, lte, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { hasLinkCondition } from '../external-links/external-links.repository.ts';
import type { ExternalProvider } from '../external-links/external-links.table.ts';
import { inWorkspaces } from '../workspaces/workspace.repository.ts';
import { type ProjectRow, type ProjectStatus, projects } from './projects.table.ts';

export interface ProjectFilter {
  workspaceIds: readonly string[];
  status?: ProjectStatus | undefined;
  containerId?: string | undefined;
  categoryId?: string | undefined;
  labelId?: string | undefined;
  hasExternalLink?: boolean | undefined;
  externalLinkProvider?: ExternalProvider | undefined;
  createdAtEq?: number | undefined;
  createdAtGte?: number | undefined;
  createdAtLte?: number | undefined;
  updatedAtEq?: number | undefined;
  updatedAtGte?: number | undefined;
  updatedAtLte?: number | undefined;
  limit: number;
  offset: number;
}

/** The list query (not yet run), so that tests can EXPLAIN exactly what the API runs. */
export function projectListQuery(db: Executor, f: ProjectFilter) {
  const where: SQL[] = [inWorkspaces(projects.workspaceId, f.workspaceIds)];
  if (f.status) where.push(eq(projects.status, f.status));
  if (f.containerId) where.push(eq(projects.containerId, f.containerId));
  if (f.categoryId) where.push(eq(projects.categoryId, f.categoryId));
  if (f.labelId) where.push(arrayContains(projects.labelIds, [f.labelId]));
  if (f.externalLinkProvider) {
    // A provider filter implies a link; with hasExternalLink=false it matches nothing.
    const linked = hasLinkCondition('project', projects.id, f.externalLinkProvider);
    where.push(f.hasExternalLink === false ? sql`false` : linked);
  } else if (f.hasExternalLink !== undefined) {
    const linked = hasLinkCondition('project', projects.id, undefined);
    where.push(f.hasExternalLink ? linked : sql`not ${linked}`);
  }
  if (f.createdAtEq !== undefined) where.push(eq(projects.createdAt, f.createdAtEq));
  if (f.createdAtGte !== undefined) where.push(gte(projects.createdAt, f.createdAtGte));
  if (f.createdAtLte !== undefined) where.push(lte(projects.createdAt, f.createdAtLte));
  if (f.updatedAtEq !== undefined) where.push(eq(projects.updatedAt, f.updatedAtEq));
  if (f.updatedAtGte !== undefined) where.push(gte(projects.updatedAt, f.updatedAtGte));
  if (f.updatedAtLte !== undefined) where.push(lte(projects.updatedAt, f.updatedAtLte));
  return db
    .select()
    .from(projects)
    .where(and(...where))
    .orderBy(desc(projects.updatedAt), asc(projects.id))
    .limit(f.limit)
    .offset(f.offset);
}

export async function listProjectRows(db: Executor, f: ProjectFilter): Promise<ProjectRow[]> {
  return projectListQuery(db, f);
}

export async function findProjectRow(
  db: Executor,
  input: { id: string; workspaceIds: readonly string[]; forUpdate?: boolean },
): Promise<ProjectRow | undefined> {
  const query = db
    .select()
    .from(projects)
    .where(and(eq(projects.id, input.id), inWorkspaces(projects.workspaceId, input.workspaceIds)))
    .limit(1);
  const rows = input.forUpdate ? await query.for('update') : await query;
  return rows[0];
}

export async function insertProject(
  db: Executor,
  values: typeof projects.$inferInsert,
): Promise<ProjectRow> {
  const rows = await db.insert(projects).values(values).returning();
  return rows[0] as ProjectRow;
}

export async function updateProjectRow(
  db: Executor,
  id: string,
  values: Partial<typeof projects.$inferInsert>,
): Promise<ProjectRow | undefined> {
  const rows = await db.update(projects).set(values).where(eq(projects.id, id)).returning();
  return rows[0];
}

export async function deleteProjectRow(db: Executor, id: string): Promise<void> {
  await db.delete(projects).where(eq(projects.id, id));
}

/** The oldest project of a container with this title, compared case-insensitively. */
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
