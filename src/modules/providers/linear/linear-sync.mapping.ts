import type { NormalizedEvent } from '../../automations/automation.event.ts';
import { toCalendarDate } from '../../automations/automation.templates.ts';
import type { ProjectStatus } from '../../projects/projects.table.ts';
import type { TaskBucket } from '../../tasks/tasks.table.ts';
import { LINEAR } from './linear.id.ts';
import { projectStatusForLinearState } from './linear-state-mapping.ts';

/**
 * The built-in Linear sync (container linked to a team): what an issue or a Linear project
 * becomes in MONOid. Pure; the worker applies it. Linear is the source of truth, so every
 * update rewrites the synced fields from the event.
 */
export interface SyncedTaskFields {
  title: string;
  notes: string | null;
  dueDate: string | null;
  bucket: TaskBucket;
  /** Matched against the organisation's members by email (lower-cased). */
  assigneeEmail: string | null;
  /** Linear project id of the issue, when it has one (→ the synced MONOid project). */
  linearProjectId: string | null;
  url: string | null;
}

export interface SyncedProjectFields {
  title: string;
  description: string | null;
  status: ProjectStatus;
  url: string | null;
}

export type SyncPlan =
  | { kind: 'upsert_task'; externalId: string; fields: SyncedTaskFields }
  | { kind: 'remove_task'; externalId: string }
  | { kind: 'upsert_project'; externalId: string; fields: SyncedProjectFields }
  | { kind: 'remove_project'; externalId: string }
  | { kind: 'none'; reason: string };

export function planLinearSync(event: NormalizedEvent): SyncPlan {
  if (event.source !== LINEAR) return { kind: 'none', reason: 'not a Linear event' };
  const f = event.fields;
  if (event.entityType === 'issue') {
    if (f.action === 'remove') return { kind: 'remove_task', externalId: event.entityId };
    return {
      kind: 'upsert_task',
      externalId: event.entityId,
      fields: {
        title: (f.title ?? 'Untitled').slice(0, 500),
        notes: f.description,
        dueDate: toCalendarDate(f.dueDate),
        bucket: f.bucket ?? 'new',
        assigneeEmail: f.assignee?.email?.toLowerCase() ?? null,
        linearProjectId: f.project?.id ?? null,
        url: f.url,
      },
    };
  }
  if (event.entityType === 'project') {
    if (f.action === 'remove') return { kind: 'remove_project', externalId: event.entityId };
    return {
      kind: 'upsert_project',
      externalId: event.entityId,
      fields: {
        title: (f.title ?? 'Untitled').slice(0, 500),
        description: f.description,
        status: projectStatusForLinearState(f.projectState),
        url: f.url,
      },
    };
  }
  return { kind: 'none', reason: `${event.entityType} events do not change synced items` };
}
