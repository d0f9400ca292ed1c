import { and, asc, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { insertRows } from '../../db/json-rows.ts';
import { preparedFor } from '../../db/prepared.ts';
import { fromExcluded } from '../../db/upsert.ts';
import {
  type ExternalLinkRow,
  type ExternalProvider,
  externalLinks,
  type LinkableEntityType,
} from './external-links.table.ts';

/** The links of a page of items, placeholders `entityType` and `entityIds` (the baseline runs it too). */
export function listLinksQuery(db: Executor) {
  return db
    .select()
    .from(externalLinks)
    .where(
      and(
        eq(externalLinks.entityType, sql.placeholder('entityType')),
        sql`${externalLinks.entityId} = any(${sql.placeholder('entityIds')}::uuid[])`,
      ),
    )
    .orderBy(asc(externalLinks.createdAt), asc(externalLinks.id));
}

const preparedListLinks = preparedFor((db) =>
  listLinksQuery(db).prepare('external_links_of_entities'),
);

export async function listLinksForEntities(
  db: Executor,
  entityType: LinkableEntityType,
  entityIds: readonly string[],
): Promise<ExternalLinkRow[]> {
  if (entityIds.length === 0) return [];
  const params = { entityType, entityIds: [...entityIds] };
  const prepared = preparedListLinks(db);
  return prepared ? prepared.execute(params) : listLinksQuery(db).execute(params);
}

/** `EXISTS` condition for the `hasExternalLink` / `externalLinkProvider` list filters. */
export function hasLinkCondition(
  entityType: LinkableEntityType,
  entityIdColumn: PgColumn,
  provider: ExternalProvider | undefined,
): SQL {
  return sql`exists (select 1 from ${externalLinks} where ${externalLinks.entityType} = ${entityType} and ${externalLinks.entityId} = ${entityIdColumn}${
    provider ? sql` and ${externalLinks.provider} = ${provider}` : sql``
  })`;
}

export async function findLink(
  db: Executor,
  input: { provider: ExternalProvider; externalId: string; containerId: string | null },
): Promise<ExternalLinkRow | undefined> {
  const rows = await db
    .select()
    .from(externalLinks)
    .where(
      and(
        eq(externalLinks.provider, input.provider),
        eq(externalLinks.externalId, input.externalId),
        input.containerId === null
          ? isNull(externalLinks.containerId)
          : eq(externalLinks.containerId, input.containerId),
      ),
    )
    .limit(1);
  return rows[0];
}

export async function findLinksByExternalId(
  db: Executor,
  input: { provider: ExternalProvider; externalId: string },
): Promise<ExternalLinkRow[]> {
  return db
    .select()
    .from(externalLinks)
    .where(
      and(
        eq(externalLinks.provider, input.provider),
        eq(externalLinks.externalId, input.externalId),
      ),
    );
}

export interface LinkUpsert {
  provider: ExternalProvider;
  externalId: string;
  url: string | null;
  title: string | null;
  entityType: LinkableEntityType;
  entityId: string;
  containerId: string | null;
  now: number;
}

export async function upsertLink(db: Executor, input: LinkUpsert): Promise<ExternalLinkRow> {
  const [row] = await upsertLinks(db, [input]);
  return row as ExternalLinkRow;
}

/** Many links in one statement (each (provider, external id, container) at most once). */
export async function upsertLinks(
  db: Executor,
  inputs: readonly LinkUpsert[],
): Promise<ExternalLinkRow[]> {
  if (inputs.length === 0) return [];
  return upsertLinksQuery(db, inputs).returning();
}

/** `upsertLinks`'s statement (undefined: nothing to write), to send with others. */
export function upsertLinksStatement(db: Executor, inputs: readonly LinkUpsert[]): SQL | undefined {
  return inputs.length === 0 ? undefined : upsertLinksQuery(db, inputs).getSQL();
}

function upsertLinksQuery(db: Executor, inputs: readonly LinkUpsert[]) {
  return insertRows(
    db,
    externalLinks,
    inputs.map(({ now, ...link }) => ({ ...link, createdAt: now, updatedAt: now })),
  ).onConflictDoUpdate({
    target: [externalLinks.provider, externalLinks.externalId, externalLinks.containerId],
    set: fromExcluded(externalLinks, ['url', 'title', 'entityType', 'entityId', 'updatedAt']),
  });
}

export async function deleteLinksForEntity(
  db: Executor,
  entityType: LinkableEntityType,
  entityId: string,
): Promise<void> {
  await db
    .delete(externalLinks)
    .where(and(eq(externalLinks.entityType, entityType), eq(externalLinks.entityId, entityId)));
}

export async function deleteLink(db: Executor, id: string): Promise<void> {
  await db.delete(externalLinks).where(eq(externalLinks.id, id));
}
