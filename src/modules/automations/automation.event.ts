import { bucketForLinearState, type TaskBucket } from './automation.state-mapping.ts';

/**
 * The normalized event: one shape for Linear and Notion deliveries, which is what rule
 * conditions (JSON Logic `var`s) and templates (`{{path}}`) read. Pure: built from the
 * stored payload (and, for Notion, the page read back through the API), no I/O here.
 */
export const eventSources = ['linear', 'notion'] as const;
export type EventSource = (typeof eventSources)[number];

export const linearTriggerEvents = [
  'issue.created',
  'issue.updated',
  'issue.removed',
  'project.created',
  'project.updated',
  'comment.created',
] as const;
export const notionTriggerEvents = [
  'page.created',
  'page.properties_updated',
  'page.content_updated',
  'page.deleted',
  'page.moved',
] as const;
export const triggerEvents = [...linearTriggerEvents, ...notionTriggerEvents] as const;
export type TriggerEvent = (typeof triggerEvents)[number];

export type EntityType = 'issue' | 'project' | 'comment' | 'page';

export interface EventActor {
  id: string | null;
  name: string | null;
  email: string | null;
  /** Linear: user | OauthClient | Integration | ...; Notion: person | bot. */
  type: string | null;
}

/** What conditions and templates see. Absent facts are `null` (or empty arrays), never missing. */
export interface EventFields {
  source: EventSource;
  event: string;
  action: 'create' | 'update' | 'remove' | 'other';
  entityType: EntityType;
  id: string;
  url: string | null;
  title: string | null;
  description: string | null;
  identifier: string | null;
  priority: number | null;
  dueDate: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  state: { id: string | null; name: string | null; type: string | null } | null;
  /** The MONOid bucket the Linear state maps to (null when there is no state). */
  bucket: TaskBucket | null;
  assignee: { id: string | null; name: string | null; email: string | null } | null;
  labels: string[];
  labelIds: string[];
  team: { id: string | null; key: string | null; name: string | null } | null;
  project: { id: string | null; name: string | null } | null;
  /** Linear project state (backlog, planned, started, paused, completed, canceled). */
  projectState: string | null;
  comment: { body: string | null; issueId: string | null; issueTitle: string | null } | null;
  actor: EventActor | null;
  changes: {
    /** Names of the fields the update changed (Linear `updatedFrom`, Notion updated properties). */
    fields: string[];
    stateChanged: boolean;
    /** The new state's type when the state changed ("state changed to completed"). */
    stateTo: string | null;
    stateToName: string | null;
    stateFromId: string | null;
    titleChanged: boolean;
    descriptionChanged: boolean;
    assigneeChanged: boolean;
    dueDateChanged: boolean;
    priorityChanged: boolean;
    projectChanged: boolean;
    labelsChanged: boolean;
    /** Names of labels added by this update. */
    labelsAdded: string[];
    labelIdsAdded: string[];
    /** Ids of labels removed (Linear sends only the current labels, so names are unknown). */
    labelIdsRemoved: string[];
    /** Notion: names of the properties this event updated. */
    properties: string[];
  };
  /** Notion: the page's parent. */
  parent: { type: string | null; id: string | null } | null;
  database: { id: string | null; dataSourceId: string | null } | null;
  /** Notion: the page's properties as plain values (title/text → string, select → name...). */
  properties: Record<string, unknown>;
  archived: boolean;
}

export interface NormalizedEvent {
  source: EventSource;
  /** `issue.created`, `page.properties_updated`, ... */
  event: string;
  entityType: EntityType;
  entityId: string;
  /** The version of the entity this event describes, ms; orders updates of one entity. */
  entityVersionAt: number | null;
  /** When the provider emitted the event, ms. */
  occurredAt: number;
  actor: EventActor | null;
  /** Scope facts a trigger filters on. */
  scope: {
    teamIds: string[];
    databaseId: string | null;
    dataSourceId: string | null;
    parentPageId: string | null;
  };
  fields: EventFields;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function obj(value: unknown): Json | null {
  return isObject(value) ? value : null;
}
function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
function ms(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function emptyChanges(): EventFields['changes'] {
  return {
    fields: [],
    stateChanged: false,
    stateTo: null,
    stateToName: null,
    stateFromId: null,
    titleChanged: false,
    descriptionChanged: false,
    assigneeChanged: false,
    dueDateChanged: false,
    priorityChanged: false,
    projectChanged: false,
    labelsChanged: false,
    labelsAdded: [],
    labelIdsAdded: [],
    labelIdsRemoved: [],
    properties: [],
  };
}

function baseFields(source: EventSource, entityType: EntityType, id: string): EventFields {
  return {
    source,
    event: '',
    action: 'other',
    entityType,
    id,
    url: null,
    title: null,
    description: null,
    identifier: null,
    priority: null,
    dueDate: null,
    createdAt: null,
    updatedAt: null,
    state: null,
    bucket: null,
    assignee: null,
    labels: [],
    labelIds: [],
    team: null,
    project: null,
    projectState: null,
    comment: null,
    actor: null,
    changes: emptyChanges(),
    parent: null,
    database: null,
    properties: {},
    archived: false,
  };
}

// ---------------------------------------------------------------- Linear

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

  const fields = baseFields('linear', entityType, id);
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
    source: 'linear',
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
  };
}

// ---------------------------------------------------------------- Notion

function plainText(value: unknown): string {
  if (!Array.isArray(value)) return '';
  return value
    .map((part) => {
      const o = obj(part);
      return str(o?.plain_text) ?? str(obj(o?.text)?.content) ?? '';
    })
    .join('');
}

/** A Notion property value as a plain JSON value conditions can compare. */
export function simplifyNotionProperty(property: unknown): unknown {
  const p = obj(property);
  if (!p) return null;
  const type = str(p.type) ?? '';
  const v = p[type];
  switch (type) {
    case 'title':
    case 'rich_text':
      return plainText(v);
    case 'number':
    case 'checkbox':
    case 'url':
    case 'email':
    case 'phone_number':
    case 'created_time':
    case 'last_edited_time':
      return v ?? null;
    case 'select':
    case 'status':
      return str(obj(v)?.name);
    case 'multi_select':
      return Array.isArray(v) ? v.map((o) => str(obj(o)?.name)).filter((n) => n !== null) : [];
    case 'date':
      return str(obj(v)?.start);
    case 'people':
      return Array.isArray(v)
        ? v.map((o) => str(obj(obj(o)?.person)?.email) ?? str(obj(o)?.id)).filter(Boolean)
        : [];
    case 'relation':
      return Array.isArray(v) ? v.map((o) => str(obj(o)?.id)).filter(Boolean) : [];
    case 'formula': {
      const f = obj(v);
      const ft = str(f?.type) ?? '';
      const fv = f?.[ft];
      return ft === 'date' ? str(obj(fv)?.start) : (fv ?? null);
    }
    case 'unique_id': {
      const u = obj(v);
      const n = num(u?.number);
      if (n === null) return null;
      return u?.prefix ? `${str(u.prefix)}-${n}` : n;
    }
    default:
      return null;
  }
}

/**
 * Normalizes a Notion webhook event together with the page read back through the API
 * (`pages.retrieve`); `page` is null when the page could not be read (deleted, no access),
 * and the event then carries only what the delivery said.
 */
export function normalizeNotionEvent(payload: unknown, page: unknown): NormalizedEvent | null {
  const p = obj(payload);
  if (!p) return null;
  const type = str(p.type) ?? '';
  if (!type.startsWith('page.')) return null;
  const entity = obj(p.entity);
  const id = str(entity?.id) ?? str(obj(page)?.id);
  if (!id) return null;

  const fields = baseFields('notion', 'page', id);
  fields.event = type;
  fields.action =
    type === 'page.created' ? 'create' : type === 'page.deleted' ? 'remove' : 'update';
  const authors = Array.isArray(p.authors) ? p.authors.map(obj).filter(isObject) : [];
  const author = authors[0];
  fields.actor = author
    ? { id: str(author.id), name: null, email: null, type: str(author.type) }
    : null;

  const eventData = obj(p.data);
  const pg = obj(page);
  const parent = obj(pg?.parent) ?? obj(eventData?.parent);
  let databaseId: string | null = null;
  let dataSourceId: string | null = null;
  let parentPageId: string | null = null;
  if (parent) {
    const parentType = str(parent.type);
    databaseId = str(parent.database_id);
    dataSourceId = str(parent.data_source_id);
    parentPageId = str(parent.page_id);
    // In the event payload the parent is `{id, type}` with type `database`/`page`/...
    if (!databaseId && !parentPageId && str(parent.id)) {
      if (parentType === 'database') databaseId = str(parent.id);
      else if (parentType === 'page') parentPageId = str(parent.id);
      else if (parentType === 'data_source') dataSourceId = str(parent.id);
    }
    fields.parent = {
      type: parentType,
      id: databaseId ?? dataSourceId ?? parentPageId ?? str(parent.id),
    };
    if (databaseId || dataSourceId) fields.database = { id: databaseId, dataSourceId };
  }

  const propertyIdToName = new Map<string, string>();
  if (pg) {
    fields.url = str(pg.url);
    fields.createdAt = str(pg.created_time);
    fields.updatedAt = str(pg.last_edited_time);
    fields.archived = pg.archived === true || pg.in_trash === true;
    const props = obj(pg.properties) ?? {};
    for (const [name, value] of Object.entries(props)) {
      fields.properties[name] = simplifyNotionProperty(value);
      const pid = str(obj(value)?.id);
      if (pid) propertyIdToName.set(pid, name);
      if (str(obj(value)?.type) === 'title') fields.title = plainText(obj(value)?.title);
    }
  }
  if (type === 'page.deleted') fields.archived = true;
  const updated = strings(eventData?.updated_properties);
  fields.changes.properties = updated.map((pid) => propertyIdToName.get(pid) ?? pid);
  fields.changes.fields = [...fields.changes.properties];
  if (fields.title !== null) fields.changes.titleChanged = updated.some((pid) => pid === 'title');

  const occurredAt = ms(p.timestamp) ?? Date.now();
  return {
    source: 'notion',
    event: type,
    entityType: 'page',
    entityId: id,
    // Notion orders by the event timestamp (nearby edits are merged into one event).
    entityVersionAt: occurredAt,
    occurredAt,
    actor: fields.actor,
    scope: { teamIds: [], databaseId, dataSourceId, parentPageId },
    fields,
  };
}
