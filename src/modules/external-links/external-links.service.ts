import type { Executor } from '../../db/database.ts';
import {
  deleteLink,
  deleteLinksForEntity,
  findLink,
  findLinksByExternalId,
  listLinksForEntities,
  upsertLink,
} from './external-links.repository.ts';
import type { ExternalLink } from './external-links.schemas.ts';
import type {
  ExternalLinkRow,
  ExternalProvider,
  LinkableEntityType,
} from './external-links.table.ts';

/** Links of many items at once (one query per list page), keyed by entity id. */
export async function linksByEntity(
  db: Executor,
  entityType: LinkableEntityType,
  entityIds: readonly string[],
): Promise<Map<string, ExternalLink[]>> {
  const rows = await listLinksForEntities(db, entityType, entityIds);
  const map = new Map<string, ExternalLink[]>();
  for (const row of rows) {
    const list = map.get(row.entityId) ?? [];
    list.push({
      provider: row.provider,
      externalId: row.externalId,
      url: row.url,
      title: row.title,
    });
    map.set(row.entityId, list);
  }
  return map;
}

export interface ExternalLinkInput {
  provider: ExternalProvider;
  externalId: string;
  url?: string | null;
  title?: string | null;
  entityType: LinkableEntityType;
  entityId: string;
  /** The container the item lives in (for a container link: the container itself). */
  containerId: string | null;
}

/**
 * For the Linear / Notion sync: records (or moves) the link of an external item in a container.
 * One MONOid item per external item per container: linking the same external item again in
 * the same container re-points the existing link. Run it in the same transaction as the
 * create/update of the item (pass the `tx`).
 */
export async function upsertExternalLink(
  db: Executor,
  input: ExternalLinkInput,
): Promise<ExternalLinkRow> {
  return upsertLink(db, {
    provider: input.provider,
    externalId: input.externalId,
    url: input.url ?? null,
    title: input.title ?? null,
    entityType: input.entityType,
    entityId: input.entityId,
    containerId: input.containerId,
    now: Date.now(),
  });
}

/** For the sync: the MONOid item linked to an external item in a container, if any. */
export async function findByExternalLink(
  db: Executor,
  input: { provider: ExternalProvider; externalId: string; containerId: string | null },
): Promise<{ entityType: LinkableEntityType; entityId: string; linkId: string } | null> {
  const row = await findLink(db, input);
  return row ? { entityType: row.entityType, entityId: row.entityId, linkId: row.id } : null;
}

/** For the sync: every container's item linked to an external item (one per container). */
export async function findAllByExternalId(
  db: Executor,
  input: { provider: ExternalProvider; externalId: string },
): Promise<
  Array<{
    entityType: LinkableEntityType;
    entityId: string;
    containerId: string | null;
    linkId: string;
  }>
> {
  const rows = await findLinksByExternalId(db, input);
  return rows.map((r) => ({
    entityType: r.entityType,
    entityId: r.entityId,
    containerId: r.containerId,
    linkId: r.id,
  }));
}

export async function removeExternalLink(db: Executor, linkId: string): Promise<void> {
  await deleteLink(db, linkId);
}

/** Called by the services when an item is deleted (links have no foreign key). */
export async function removeExternalLinksOf(
  db: Executor,
  entityType: LinkableEntityType,
  entityId: string,
): Promise<void> {
  await deleteLinksForEntity(db, entityType, entityId);
}
