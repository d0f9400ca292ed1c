import { type ProjectStatus, projectStatuses } from '../projects/projects.table.ts';
import { type TaskBucket, taskBuckets } from '../tasks/tasks.table.ts';
import { evaluateConditions } from './automation.conditions.ts';
import type { AutomationAction, AutomationTrigger } from './automation.definition.ts';
import type {
  EventFields,
  ExternalRef,
  NormalizedEvent,
  TriggerScope,
} from './automation.event.ts';
import { renderTemplate, renderText } from './automation.templates.ts';

/**
 * Rule evaluation: given a rule and a normalized event, what the rule would do. Pure, so the
 * worker and the dry run share it exactly: the worker then applies the planned actions in
 * one transaction with the run record; the dry run only reports them.
 */
export interface EvaluableRule {
  trigger: AutomationTrigger;
  conditions?: unknown;
  actions: AutomationAction[];
}

export interface PlannedTaskFields {
  title?: string;
  notes?: string | null;
  bucket?: TaskBucket;
  dueDate?: string | null;
  doDate?: string | null;
}

export type ContainerRef =
  | { by: 'id'; id: string }
  | { by: 'name'; name: string; createIfMissing: boolean };

export type PlannedAction =
  | {
      type: 'create_task';
      task: PlannedTaskFields & { title: string };
      project: { name: string; createIfMissing: boolean } | null;
      container: ContainerRef | null;
      externalLink: ExternalRef;
    }
  | {
      type: 'create_project';
      project: { title: string; description: string | null; status: ProjectStatus | null };
      container: ContainerRef;
      externalLink: ExternalRef;
    }
  | {
      type: 'create_container';
      container: { name: string; description: string | null };
      externalLink: ExternalRef;
    }
  | { type: 'update_linked'; task: PlannedTaskFields; externalLink: ExternalRef }
  | { type: 'complete_linked'; externalLink: ExternalRef };

export type EvaluationStage = 'trigger' | 'scope' | 'loop_guard' | 'conditions';

export interface RuleEvaluation {
  matched: boolean;
  /** Where evaluation stopped when it did not match. */
  stage: EvaluationStage | null;
  reason: string | null;
  failedCondition: { index: number | null; condition: unknown } | null;
  actions: PlannedAction[];
  /** Non-fatal problems while filling fields (a bucket template giving an unknown value...). */
  warnings: string[];
}

export interface EvaluationContext {
  /**
   * Actor ids of this server's own integration identities (the OAuth app / bot user of the
   * connection). Events they caused are ignored: the loop guard.
   */
  ownActorIds?: readonly string[];
}

/** Loop guard: whether this event was caused by this server's own integration identity. */
export function isOwnEvent(event: NormalizedEvent, ownActorIds: readonly string[]): boolean {
  const id = event.actor?.id;
  return id !== null && id !== undefined && ownActorIds.includes(id);
}

const notMatched = (
  stage: EvaluationStage,
  reason: string,
  failedCondition: RuleEvaluation['failedCondition'] = null,
): RuleEvaluation => ({
  matched: false,
  stage,
  reason,
  failedCondition,
  actions: [],
  warnings: [],
});

export function evaluateRule(
  rule: EvaluableRule,
  event: NormalizedEvent,
  context: EvaluationContext & {
    source: { scopeMatches(scope: TriggerScope, event: NormalizedEvent): boolean };
  },
): RuleEvaluation {
  if (rule.trigger.source !== event.source || rule.trigger.event !== event.event)
    return notMatched(
      'trigger',
      `the rule triggers on ${rule.trigger.source} ${rule.trigger.event}, this is ${event.source} ${event.event}`,
    );
  if (!context.source.scopeMatches(rule.trigger.scope, event))
    return notMatched('scope', 'the event is outside the rule scope');
  if (isOwnEvent(event, context.ownActorIds ?? []))
    return notMatched('loop_guard', "the event was caused by this server's own integration");
  const outcome = evaluateConditions(rule.conditions, event.fields);
  if (!outcome.passed)
    return notMatched(
      'conditions',
      outcome.error ??
        (outcome.failed?.index !== null && outcome.failed?.index !== undefined
          ? `condition ${outcome.failed.index} of "and" is false`
          : 'the conditions are false'),
      outcome.failed,
    );
  const warnings: string[] = [];
  const actions = rule.actions.map((a) => planAction(a, event, warnings));
  return { matched: true, stage: null, reason: null, failedCondition: null, actions, warnings };
}

/** What an item made from the event links to. */
export function externalRefFor(event: NormalizedEvent): ExternalRef {
  return event.ref;
}

/** A calendar date (YYYY-MM-DD) from a date or date-time; null otherwise. */
export function toCalendarDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})(?:$|T)/.exec(value.trim());
  return m ? (m[1] ?? null) : null;
}

function renderBucket(
  template: string | null | undefined,
  fields: EventFields,
  warnings: string[],
): TaskBucket | undefined {
  if (template === null || template === undefined) return undefined;
  const value = renderText(template, fields);
  if (value === null) return undefined;
  if ((taskBuckets as readonly string[]).includes(value)) return value as TaskBucket;
  warnings.push(`bucket "${value}" is not a bucket; the default is used`);
  return undefined;
}

function renderTaskFields(
  task: {
    title?: string | null | undefined;
    notes?: string | null | undefined;
    bucket?: string | null | undefined;
    dueDate?: string | null | undefined;
    doDate?: string | null | undefined;
  },
  fields: EventFields,
  warnings: string[],
): PlannedTaskFields {
  const out: PlannedTaskFields = {};
  if (task.title) out.title = (renderText(task.title, fields) ?? 'Untitled').slice(0, 500);
  if (task.notes !== undefined && task.notes !== null) out.notes = renderText(task.notes, fields);
  const bucket = renderBucket(task.bucket, fields, warnings);
  if (bucket) out.bucket = bucket;
  if (task.dueDate) out.dueDate = toCalendarDate(renderTemplate(task.dueDate, fields));
  if (task.doDate) out.doDate = toCalendarDate(renderTemplate(task.doDate, fields));
  return out;
}

function renderContainer(
  target: {
    id?: string | null | undefined;
    name?: string | null | undefined;
    createIfMissing: boolean;
  },
  fields: EventFields,
): ContainerRef {
  if (target.id) return { by: 'id', id: target.id };
  return {
    by: 'name',
    name: renderText(target.name, fields) ?? 'Untitled',
    createIfMissing: target.createIfMissing,
  };
}

function planAction(
  action: AutomationAction,
  event: NormalizedEvent,
  warnings: string[],
): PlannedAction {
  const fields = event.fields;
  const externalLink = externalRefFor(event);
  switch (action.type) {
    case 'create_task': {
      const task = renderTaskFields(action.task, fields, warnings);
      return {
        type: 'create_task',
        task: { ...task, title: task.title ?? 'Untitled' },
        project: action.project
          ? {
              name: renderText(action.project.name, fields) ?? 'Untitled',
              createIfMissing: action.project.createIfMissing,
            }
          : null,
        container: action.container ? renderContainer(action.container, fields) : null,
        externalLink,
      };
    }
    case 'create_project': {
      const status = renderText(action.project.status, fields);
      const known: readonly string[] = projectStatuses;
      if (status && !known.includes(status))
        warnings.push(`project status "${status}" is not a status; the default is used`);
      return {
        type: 'create_project',
        project: {
          title: renderText(action.project.title, fields) ?? 'Untitled',
          description: renderText(action.project.description, fields),
          status: status && known.includes(status) ? (status as ProjectStatus) : null,
        },
        container: renderContainer(action.container, fields),
        externalLink,
      };
    }
    case 'create_container':
      return {
        type: 'create_container',
        container: {
          name: renderText(action.container.name, fields) ?? 'Untitled',
          description: renderText(action.container.description, fields),
        },
        externalLink,
      };
    case 'update_linked':
      return {
        type: 'update_linked',
        task: renderTaskFields(action.task, fields, warnings),
        externalLink,
      };
    case 'complete_linked':
      return { type: 'complete_linked', externalLink };
  }
}
