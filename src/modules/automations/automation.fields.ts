import type { EventFields } from './automation.event.ts';

/**
 * The catalog of field paths a rule may name, in a condition (`{"var": "state.type"}`) or a
 * template (`{{team.name}}`). Anything else is rejected when the rule is saved, so a typo
 * fails loudly at save time instead of silently never matching.
 */
export const eventFieldPaths = [
  'source',
  'event',
  'action',
  'entityType',
  'id',
  'url',
  'title',
  'description',
  'identifier',
  'priority',
  'dueDate',
  'createdAt',
  'updatedAt',
  'state',
  'state.id',
  'state.name',
  'state.type',
  'bucket',
  'assignee',
  'assignee.id',
  'assignee.name',
  'assignee.email',
  'labels',
  'labelIds',
  'team',
  'team.id',
  'team.key',
  'team.name',
  'project',
  'project.id',
  'project.name',
  'projectState',
  'comment',
  'comment.body',
  'comment.issueId',
  'comment.issueTitle',
  'actor',
  'actor.id',
  'actor.name',
  'actor.email',
  'actor.type',
  'changes',
  'changes.fields',
  'changes.stateChanged',
  'changes.stateTo',
  'changes.stateToName',
  'changes.stateFromId',
  'changes.titleChanged',
  'changes.descriptionChanged',
  'changes.assigneeChanged',
  'changes.dueDateChanged',
  'changes.priorityChanged',
  'changes.projectChanged',
  'changes.labelsChanged',
  'changes.labelsAdded',
  'changes.labelIdsAdded',
  'changes.labelIdsRemoved',
  'changes.properties',
  'parent',
  'parent.type',
  'parent.id',
  'database',
  'database.id',
  'database.dataSourceId',
  'properties',
  'archived',
] as const;

const known = new Set<string>(eventFieldPaths);
const arrayFields = new Set([
  'labels',
  'labelIds',
  'changes.fields',
  'changes.labelsAdded',
  'changes.labelIdsAdded',
  'changes.labelIdsRemoved',
  'changes.properties',
]);

/**
 * Whether `path` names a field of the normalized event. `properties.<name>` (Notion page
 * properties, any name, optionally followed by an index) and `<array field>.<index>` are
 * accepted too.
 */
export function isKnownFieldPath(path: string): boolean {
  if (known.has(path)) return true;
  if (path.startsWith('properties.') && path.length > 'properties.'.length) return true;
  const m = /^(.*)\.(\d+)$/.exec(path);
  return m !== null && arrayFields.has(m[1] ?? '');
}

/** Reads a dotted path from the event fields (Notion property names may contain dots). */
export function readFieldPath(fields: EventFields, path: string): unknown {
  if (path.startsWith('properties.')) {
    const rest = path.slice('properties.'.length);
    if (Object.hasOwn(fields.properties, rest)) return fields.properties[rest];
  }
  let current: unknown = fields;
  for (const segment of path.split('.')) {
    if (current === null || current === undefined) return null;
    if (typeof current !== 'object') return null;
    if (!Object.hasOwn(current, segment)) return null;
    current = (current as Record<string, unknown>)[segment];
  }
  return current ?? null;
}
