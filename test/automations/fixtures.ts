/** Linear and Notion payloads in the providers' wire formats (webhook-protocols.md). */
import { randomUUID } from 'node:crypto';

export interface LinearIssueOptions {
  id?: string;
  action?: 'create' | 'update' | 'remove';
  title?: string;
  description?: string | null;
  teamId?: string;
  stateType?: string;
  stateName?: string;
  labels?: Array<{ id: string; name: string }>;
  updatedFrom?: Record<string, unknown>;
  updatedAt?: string;
  dueDate?: string | null;
  assignee?: { id: string; name: string; email?: string } | null;
  actorId?: string;
  webhookId?: string;
  projectId?: string | null;
}

export function linearIssuePayload(o: LinearIssueOptions = {}): Record<string, unknown> {
  const id = o.id ?? randomUUID();
  const teamId = o.teamId ?? 'team-1';
  const now = new Date();
  return {
    action: o.action ?? 'create',
    type: 'Issue',
    createdAt: now.toISOString(),
    organizationId: 'org-linear-1',
    url: `https://linear.app/acme/issue/ENG-1/${id}`,
    webhookId: o.webhookId ?? 'wh-1',
    webhookTimestamp: now.getTime(),
    actor: {
      id: o.actorId ?? 'user-actor',
      name: 'Ada',
      email: 'ada@example.com',
      type: 'user',
      url: 'https://linear.app/acme/profiles/ada',
    },
    ...(o.updatedFrom ? { updatedFrom: o.updatedFrom } : {}),
    data: {
      id,
      identifier: 'ENG-1',
      number: 1,
      title: o.title ?? 'Fix the login bug',
      description: o.description === undefined ? 'Steps to reproduce' : o.description,
      priority: 2,
      dueDate: o.dueDate === undefined ? '2026-12-01' : o.dueDate,
      url: `https://linear.app/acme/issue/ENG-1/${id}`,
      createdAt: '2026-11-01T10:00:00.000Z',
      updatedAt: o.updatedAt ?? now.toISOString(),
      teamId,
      team: { id: teamId, key: 'ENG', name: 'Engineering' },
      stateId: `state-${o.stateType ?? 'unstarted'}`,
      state: {
        id: `state-${o.stateType ?? 'unstarted'}`,
        name: o.stateName ?? 'Todo',
        type: o.stateType ?? 'unstarted',
        color: '#000',
      },
      labelIds: (o.labels ?? []).map((l) => l.id),
      labels: (o.labels ?? []).map((l) => ({ ...l, color: '#f00' })),
      ...(o.assignee ? { assigneeId: o.assignee.id, assignee: o.assignee } : {}),
      ...(o.projectId ? { projectId: o.projectId, project: { id: o.projectId, name: 'Q4' } } : {}),
    },
  };
}

export function notionPageEvent(
  o: {
    type?: string;
    pageId?: string;
    databaseId?: string;
    updatedProperties?: string[];
    authorId?: string;
    authorType?: 'person' | 'bot';
    timestamp?: string;
  } = {},
): Record<string, unknown> {
  return {
    id: randomUUID(),
    timestamp: o.timestamp ?? new Date().toISOString(),
    workspace_id: 'ws-1',
    workspace_name: 'Acme',
    subscription_id: 'sub-1',
    integration_id: 'int-1',
    type: o.type ?? 'page.created',
    authors: [{ id: o.authorId ?? 'person-1', type: o.authorType ?? 'person' }],
    attempt_number: 1,
    api_version: '2025-09-03',
    entity: { id: o.pageId ?? 'page-1', type: 'page' },
    data: {
      parent: { id: o.databaseId ?? 'db-1', type: 'database' },
      ...(o.updatedProperties ? { updated_properties: o.updatedProperties } : {}),
    },
  };
}

export function notionPage(
  o: {
    id?: string;
    databaseId?: string;
    title?: string;
    status?: string;
    tags?: string[];
    due?: string | null;
  } = {},
): Record<string, unknown> {
  return {
    object: 'page',
    id: o.id ?? 'page-1',
    created_time: '2026-11-27T10:00:00.000Z',
    last_edited_time: '2026-11-27T10:01:00.000Z',
    created_by: { object: 'user', id: 'person-1' },
    last_edited_by: { object: 'user', id: 'person-1' },
    parent: { type: 'database_id', database_id: o.databaseId ?? 'db-1' },
    archived: false,
    in_trash: false,
    url: `https://www.notion.so/${o.id ?? 'page-1'}`,
    properties: {
      Name: {
        id: 'title',
        type: 'title',
        title: [
          {
            type: 'text',
            text: { content: o.title ?? 'Write the spec' },
            plain_text: o.title ?? 'Write the spec',
          },
        ],
      },
      Status: { id: 'st%3A', type: 'status', status: { id: 's1', name: o.status ?? 'Todo' } },
      Tags: {
        id: 'tg%3A',
        type: 'multi_select',
        multi_select: (o.tags ?? ['spec']).map((name) => ({ id: name, name })),
      },
      Due: {
        id: 'du%3A',
        type: 'date',
        date: o.due === null ? null : { start: o.due ?? '2026-12-24' },
      },
      Points: { id: 'pt%3A', type: 'number', number: 3 },
    },
  };
}

/** Issue `i` of a team as a backfill page returns it (`BACKFILL_ISSUE_FIELDS`). */
export function backfillIssueNode(
  i: number,
  team: { id: string; key: string; name: string },
  o: { idPrefix?: string; stateType?: string } = {},
): Record<string, unknown> {
  const stateType = o.stateType ?? 'unstarted';
  return {
    id: `${o.idPrefix ?? ''}iss-${i}`,
    identifier: `${team.key}-${i}`,
    title: `Issue ${i}`,
    description: null,
    priority: 0,
    dueDate: null,
    url: `https://linear.app/acme/issue/${team.key}-${i}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-03T00:00:00.000Z',
    archivedAt: null,
    state: { id: `st-${stateType}`, name: stateType, type: stateType },
    team: { id: team.id, key: team.key, name: team.name },
    assignee: null,
    labels: { nodes: [] },
    project: null,
  };
}

/** One cursor page of `items` (`first`, `after` = `c<offset>`), as Linear's connections page. */
export function cursorPage<T>(items: readonly T[], variables: Record<string, unknown>) {
  const start = variables.after ? Number(String(variables.after).slice(1)) : 0;
  const nodes = items.slice(start, start + Number(variables.first));
  const end = start + nodes.length;
  return { nodes, pageInfo: { hasNextPage: end < items.length, endCursor: `c${end}` } };
}
