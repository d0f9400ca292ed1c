import type { Executor } from '../../db/database.ts';
import { type TagHolder, tagService } from '../tags/tags.service.ts';
import { invalidReference, isUuid } from '../workspaces/workspace.service.ts';
import { type LabelEntityType, labels } from './labels.table.ts';

export const labelService = tagService({ noun: 'Label', table: labels });
/** Projects and tasks carry labels in a `labelIds` array: their holders release it on delete. */
export type LabelHolder = TagHolder<LabelEntityType>;

/** Labels by id (for expanding `labels` on projects). */
export const labelsById = labelService.byIds;

/**
 * Integrity rule for items carrying labels: each must exist in the item's workspace with the
 * item's entity type; otherwise a 400 on `labelIds`. Returns the ids without duplicates.
 */
export async function assertLabelsFor(
  db: Executor,
  input: { labelIds: readonly string[]; workspaceId: string; entityType: LabelEntityType },
): Promise<string[]> {
  const ids = [...new Set(input.labelIds.map((id) => id.toLowerCase()))];
  if (ids.length === 0) return [];
  if (!ids.every(isUuid))
    throw invalidReference('labelIds', 'label not found in the item’s workspace');
  const rows = await labelService.repo.findByIds(db, ids);
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
