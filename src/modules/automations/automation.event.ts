import type { ProviderId } from '../integrations/integrations.table.ts';
import type { TaskBucket } from '../tasks/tasks.table.ts';

/**
 * The normalized event: one shape for every provider's deliveries, which is what rule
 * conditions (JSON Logic `var`s) and templates (`{{path}}`) read. Pure: built from the
 * stored payload (and, for Notion, the page read back through the API), no I/O here.
 */
/** What a rule's trigger is scoped to; each source says which keys it takes. */
export interface TriggerScope {
  teamId?: string | null | undefined;
  databaseId?: string | null | undefined;
  parentPageId?: string | null | undefined;
}

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
  source: ProviderId;
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

/** The external item a MONOid item created from an event links to. */
export interface ExternalRef {
  provider: ProviderId;
  externalId: string;
  url: string | null;
  title: string | null;
}

export interface NormalizedEvent {
  source: ProviderId;
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
  /** What items made from this event link to (a comment's is its issue). */
  ref: ExternalRef;
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
export function obj(value: unknown): Json | null {
  return isObject(value) ? value : null;
}
export function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
export function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
export function ms(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

export function emptyChanges(): EventFields['changes'] {
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

export function baseFields(source: ProviderId, entityType: EntityType, id: string): EventFields {
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
