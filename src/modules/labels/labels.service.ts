import type { Executor } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import {
  type Actor,
  invalidReference,
  isUuid,
  nowMs,
  organisationForWrite,
  pathId,
  visibleWorkspaceIds,
  workspaceKey,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import {
  deleteLabelRow,
  findLabelRow,
  findLabelRowsByIds,
  insertLabel,
  listLabelRows,
  updateLabelRow,
} from './labels.repository.ts';
import type { Label, LabelCreate, LabelListQuery, LabelUpdate } from './labels.schemas.ts';
import type { LabelRow } from './labels.table.ts';
import { detachLabel, labelInUseByOtherType } from './labels.usage.ts';

export function presentLabel(r: LabelRow): Label {
  return {
    _id: r.id,
    name: r.name,
    color: r.color,
    entityType: r.entityType,
    organisationId: r.organisationId,
  };
}

export async function listLabels(
  db: Executor,
  actor: Actor,
  query: LabelListQuery,
): Promise<Label[]> {
  const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
  const rows = await listLabelRows(db, {
    workspaceIds,
    entityType: query.entityType,
    limit: query.limit,
    offset: query.offset,
  });
  return rows.map(presentLabel);
}

export async function findVisibleLabel(
  db: Executor,
  actor: Actor,
  id: string,
): Promise<LabelRow | undefined> {
  return findLabelRow(db, { id, workspaceIds: visibleWorkspaceIds(actor) });
}

/** Labels by id (for expanding `labels` on projects). */
export async function labelsById(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, Label>> {
  const rows = await findLabelRowsByIds(db, [...new Set(ids)]);
  return new Map(rows.map((r) => [r.id, presentLabel(r)]));
}

export async function getLabel(db: Executor, actor: Actor, id: string): Promise<Label> {
  const row = await findVisibleLabel(db, actor, pathId(id, 'Label'));
  if (!row) throw notFound('Label');
  return presentLabel(row);
}

export async function createLabel(db: Executor, actor: Actor, input: LabelCreate): Promise<Label> {
  const organisationId = (await organisationForWrite(db, actor, input.organisationId)) ?? null;
  const now = nowMs();
  const row = await insertLabel(db, {
    userId: actor.userId,
    organisationId,
    workspaceId: workspaceKey(actor, organisationId),
    name: input.name,
    color: input.color ?? null,
    entityType: input.entityType,
    createdAt: now,
    updatedAt: now,
  });
  return presentLabel(row);
}

export async function updateLabel(
  db: Executor,
  actor: Actor,
  id: string,
  patch: LabelUpdate,
): Promise<Label> {
  const labelId = pathId(id, 'Label');
  return db.transaction(async (tx) => {
    const existing = await findVisibleLabel(tx, actor, labelId);
    if (!existing) throw notFound('Label');
    if (
      patch.entityType !== undefined &&
      patch.entityType !== existing.entityType &&
      (await labelInUseByOtherType(tx, labelId, patch.entityType))
    ) {
      throw conflict('The label is in use by items of its current entity type.');
    }
    const row = await updateLabelRow(tx, labelId, {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.color !== undefined ? { color: patch.color } : {}),
      ...(patch.entityType !== undefined ? { entityType: patch.entityType } : {}),
      updatedAt: nowMs(),
    });
    if (!row) throw notFound('Label');
    return presentLabel(row);
  });
}

/** Deletes a label and removes it from the `labelIds` of every item that carried it. */
export async function deleteLabel(db: Executor, actor: Actor, id: string): Promise<void> {
  const labelId = pathId(id, 'Label');
  await db.transaction(async (tx) => {
    const existing = await findVisibleLabel(tx, actor, labelId);
    if (!existing) throw notFound('Label');
    await detachLabel(tx, labelId);
    await deleteLabelRow(tx, labelId);
  });
}

/**
 * Integrity rule for items carrying labels: each must exist in the item's workspace with the
 * item's entity type; otherwise a 400 on `labelIds`. Returns the ids without duplicates.
 */
export async function assertLabelsFor(
  db: Executor,
  input: { labelIds: readonly string[]; workspaceId: string; entityType: LabelRow['entityType'] },
): Promise<string[]> {
  const ids = [...new Set(input.labelIds.map((id) => id.toLowerCase()))];
  if (ids.length === 0) return [];
  if (!ids.every(isUuid))
    throw invalidReference('labelIds', 'label not found in the item’s workspace');
  const rows = await findLabelRowsByIds(db, ids);
  for (const id of ids) {
    const row = rows.find((r) => r.id === id);
    if (!row || row.workspaceId !== input.workspaceId) {
      throw invalidReference('labelIds', 'label not found in the item’s workspace');
    }
    if (row.entityType !== input.entityType) {
      throw invalidReference('labelIds', `label must have entityType ${input.entityType}`);
    }
  }
  return ids;
}
