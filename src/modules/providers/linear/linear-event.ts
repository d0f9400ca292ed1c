import {
  baseFields,
  type EntityType,
  type EventActor,
  type EventFields,
  isObject,
  ms,
  type NormalizedEvent,
  num,
  obj,
  str,
  strings,
} from '../../automations/automation.event.ts';
import { LINEAR } from './linear.id.ts';
import { bucketForLinearState } from './linear-state-mapping.ts';

/** Events a rule can trigger on. */
export const linearTriggerEvents = [
  'issue.created',
  'issue.updated',
  'issue.removed',
  'project.created',
  'project.updated',
  'comment.created',
] as const;

const linearEntityTypes: Record<string, EntityType> = {
  Issue: 'issue',
  Project: 'project',
  Comment: 'comment',
};
const linearActionVerbs: Record<string, string> = {
  create: 'created',
  update: 'updated',
  remove: 'removed',
};

/** `updatedFrom` keys → the field names rules talk about. */
const linearChangeNames: Record<string, string> = {
  stateId: 'state',
  labelIds: 'labels',
  assigneeId: 'assignee',
  projectId: 'project',
  teamId: 'team',
  dueDate: 'dueDate',
  title: 'title',
  description: 'description',
  priority: 'priority',
  name: 'title',
  state: 'state',
  targetDate: 'dueDate',
};
/** Bookkeeping keys Linear puts in `updatedFrom` that are not a change anyone cares about. */
const linearIgnoredChanges = new Set(['updatedAt', 'sortOrder', 'subIssueSortOrder', 'boardOrder']);

function linearActor(value: unknown): EventActor | null {
  const a = obj(value);
  if (!a) return null;
  return { id: str(a.id), name: str(a.name), email: str(a.email), type: str(a.type) };
}

/**
 * Normalizes a Linear `EntityWebhookPayload` (Issue, Project or Comment). Returns null for
 * resource types the engine does not act on (labels, cycles, reactions...).
 */
export function normalizeLinearEvent(payload: unknown): NormalizedEvent | null {
  const p = obj(payload);
  if (!p) return null;
  const entityType = linearEntityTypes[str(p.type) ?? ''];
  const data = obj(p.data);
  const action = str(p.action) ?? '';
  const verb = linearActionVerbs[action];
  if (!entityType || !data || !verb) return null;
  const id = str(data.id);
  if (!id) return null;

  const fields = baseFields(LINEAR, entityType, id);
  fields.event = `${entityType}.${verb}`;
  fields.action = action as EventFields['action'];
  fields.url = str(data.url) ?? str(p.url);
  fields.createdAt = str(data.createdAt);
  fields.updatedAt = str(data.updatedAt);
  fields.actor = linearActor(p.actor);
  fields.archived = action === 'remove' || data.archivedAt != null;

  const teamIds: string[] = [];
  if (entityType === 'issue') {
    fields.title = str(data.title);
    fields.description = str(data.description);
    fields.identifier = str(data.identifier);
    fields.priority = num(data.priority);
    fields.dueDate = str(data.dueDate);
    const state = obj(data.state);
    if (state || data.stateId) {
      fields.state = {
        id: str(state?.id) ?? str(data.stateId),
        name: str(state?.name),
        type: str(state?.type),
      };
      fields.bucket = bucketForLinearState({ type: state?.type as string, name: str(state?.name) });
    }
    const assignee = obj(data.assignee);
    if (assignee || data.assigneeId) {
      fields.assignee = {
        id: str(assignee?.id) ?? str(data.assigneeId),
        name: str(assignee?.name),
        email: str(assignee?.email),
      };
    }
    const labels = Array.isArray(data.labels) ? data.labels.map(obj).filter(isObject) : [];
    fields.labels = labels.map((l) => str(l.name)).filter((n): n is string => n !== null);
    fields.labelIds = strings(data.labelIds);
    if (fields.labelIds.length === 0)
      fields.labelIds = labels.map((l) => str(l.id)).filter((n): n is string => n !== null);
    const team = obj(data.team);
    const teamId = str(team?.id) ?? str(data.teamId);
    if (teamId) teamIds.push(teamId);
    if (team || teamId) fields.team = { id: teamId, key: str(team?.key), name: str(team?.name) };
    const project = obj(data.project);
    const projectId = str(project?.id) ?? str(data.projectId);
    if (projectId) fields.project = { id: projectId, name: str(project?.name) };

    const from = obj(p.updatedFrom);
    if (action === 'update' && from) {
      const c = fields.changes;
      const names = new Set<string>();
      for (const key of Object.keys(from)) {
        if (linearIgnoredChanges.has(key)) continue;
        names.add(linearChangeNames[key] ?? key);
      }
      c.fields = [...names].sort();
      c.stateChanged = names.has('state');
      if (c.stateChanged) {
        c.stateTo = fields.state?.type ?? null;
        c.stateToName = fields.state?.name ?? null;
        c.stateFromId = str(from.stateId);
      }
      c.titleChanged = names.has('title');
      c.descriptionChanged = names.has('description');
      c.assigneeChanged = names.has('assignee');
      c.dueDateChanged = names.has('dueDate');
      c.priorityChanged = names.has('priority');
      c.projectChanged = names.has('project');
      c.labelsChanged = names.has('labels');
      if (c.labelsChanged) {
        const before = new Set(strings(from.labelIds));
        const now = new Set(fields.labelIds);
        c.labelIdsAdded = fields.labelIds.filter((l) => !before.has(l));
        c.labelIdsRemoved = [...before].filter((l) => !now.has(l));
        const added = new Set(c.labelIdsAdded);
        c.labelsAdded = labels
          .filter((l) => added.has(str(l.id) ?? ''))
          .map((l) => str(l.name))
          .filter((n): n is string => n !== null);
      }
    }
  } else if (entityType === 'project') {
    fields.title = str(data.name);
    fields.description = str(data.description);
    fields.dueDate = str(data.targetDate);
    fields.projectState = str(data.state) ?? str(obj(data.status)?.type);
    fields.project = { id, name: str(data.name) };
    for (const t of strings(data.teamIds)) teamIds.push(t);
    const from = obj(p.updatedFrom);
    if (action === 'update' && from) {
      const names = new Set<string>();
      for (const key of Object.keys(from)) {
        if (linearIgnoredChanges.has(key)) continue;
        names.add(linearChangeNames[key] ?? key);
      }
      fields.changes.fields = [...names].sort();
      fields.changes.stateChanged = names.has('state');
      if (fields.changes.stateChanged) fields.changes.stateTo = fields.projectState;
      fields.changes.titleChanged = names.has('title');
      fields.changes.descriptionChanged = names.has('description');
      fields.changes.dueDateChanged = names.has('dueDate');
    }
  } else {
    const issue = obj(data.issue);
    fields.comment = {
      body: str(data.body),
      issueId: str(data.issueId) ?? str(issue?.id),
      issueTitle: str(issue?.title),
    };
    fields.description = str(data.body);
    fields.title = str(issue?.title);
    const teamId = str(issue?.teamId) ?? str(obj(issue?.team)?.id);
    if (teamId) {
      teamIds.push(teamId);
      fields.team = { id: teamId, key: null, name: null };
    }
  }

  const occurredAt = ms(p.webhookTimestamp) ?? ms(p.createdAt) ?? Date.now();
  return {
    source: LINEAR,
    event: fields.event,
    entityType,
    entityId: id,
    // A removal has no newer updatedAt than the last update; it must still win, so it is
    // ordered by when it happened.
    entityVersionAt:
      action === 'remove'
        ? (ms(data.archivedAt) ?? occurredAt)
        : (ms(data.updatedAt) ?? ms(p.createdAt) ?? occurredAt),
    occurredAt,
    actor: fields.actor,
    scope: { teamIds, databaseId: null, dataSourceId: null, parentPageId: null },
    fields,
    // A comment's task is its issue's task.
    ref:
      entityType === 'comment' && fields.comment?.issueId
        ? { provider: LINEAR, externalId: fields.comment.issueId, url: null, title: fields.title }
        : { provider: LINEAR, externalId: id, url: fields.url, title: fields.title },
  };
}
