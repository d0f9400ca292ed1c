import { z } from 'zod';
import type { FieldError } from '../../../http/errors.ts';
import { PermanentError } from '../../inbox/inbox.errors.ts';
import { type TaskBucket, taskBuckets } from '../../tasks/tasks.table.ts';
import type { Effect, EffectContext, TaskPatch } from '../automation.effects.ts';
import type { EventFields } from '../automation.event.ts';
import { renderTemplate, renderText, toCalendarDate } from '../automation.templates.ts';
import { checkEnumOrTemplate, checkTemplate, template } from './action.ts';

/** Pieces several actions share: the container and project they target, task fields. */

export const containerTarget = z
  .object({
    id: z.uuid().nullish().describe('An existing container of the workspace'),
    name: template.nullish().describe('Find the container by name (template)'),
    createIfMissing: z.boolean().default(true),
  })
  .meta({ id: 'AutomationContainerTarget' });

export const projectTarget = z
  .object({
    name: template.describe('Find the project by title in the container (template)'),
    createIfMissing: z.boolean().default(true),
  })
  .meta({ id: 'AutomationProjectTarget' });

export const taskFields = z.object({
  title: template,
  notes: template.nullish(),
  bucket: template.nullish().describe('A bucket, or a template such as {{bucket}}'),
  dueDate: template.nullish(),
  doDate: template.nullish(),
});

export type ContainerRef =
  | { by: 'id'; id: string }
  | { by: 'name'; name: string; createIfMissing: boolean };

export interface PlannedTaskFields {
  title?: string;
  notes?: string | null;
  bucket?: TaskBucket;
  dueDate?: string | null;
  doDate?: string | null;
}

type TaskFieldsInput = {
  title?: string | null | undefined;
  notes?: string | null | undefined;
  bucket?: string | null | undefined;
  dueDate?: string | null | undefined;
  doDate?: string | null | undefined;
};

export function checkTaskFields(task: TaskFieldsInput, at: string): FieldError[] {
  return [
    ...checkTemplate(task.title, `${at}.title`),
    ...checkTemplate(task.notes, `${at}.notes`),
    ...checkTemplate(task.dueDate, `${at}.dueDate`),
    ...checkTemplate(task.doDate, `${at}.doDate`),
    ...checkEnumOrTemplate(task.bucket, taskBuckets, `${at}.bucket`),
  ];
}

export function checkContainer(
  target: { id?: string | null | undefined; name?: string | null | undefined },
  path: string,
): FieldError[] {
  const errors: FieldError[] = [];
  if (!target.id && !target.name)
    errors.push({ path, message: 'give the container id or a name to find it by' });
  errors.push(...checkTemplate(target.name, `${path}.name`));
  return errors;
}

function renderBucket(
  value: string | null | undefined,
  fields: EventFields,
  warnings: string[],
): TaskBucket | undefined {
  if (value === null || value === undefined) return undefined;
  const rendered = renderText(value, fields);
  if (rendered === null) return undefined;
  if ((taskBuckets as readonly string[]).includes(rendered)) return rendered as TaskBucket;
  warnings.push(`bucket "${rendered}" is not a bucket; the default is used`);
  return undefined;
}

export function renderTaskFields(
  task: TaskFieldsInput,
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

export function taskPatch(fields: PlannedTaskFields): TaskPatch {
  const patch: TaskPatch = {};
  if (fields.title !== undefined) patch.title = fields.title;
  if (fields.notes !== undefined) patch.notes = fields.notes;
  if (fields.bucket !== undefined) patch.bucket = fields.bucket;
  if (fields.dueDate !== undefined) patch.dueDate = fields.dueDate;
  if (fields.doDate !== undefined) patch.doDate = fields.doDate;
  return patch;
}

export function renderContainer(
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

/** The container an action targets: found, or created (dry: described), or a PermanentError. */
export async function resolveContainer(
  ctx: EffectContext,
  ref: ContainerRef,
  effects: Effect[],
  action: string,
): Promise<string | null> {
  if (ref.by === 'id') {
    if (!(await ctx.store.containerExists(ctx.db, ctx.workspace, ref.id)))
      throw new PermanentError(`container ${ref.id} does not exist in this workspace`);
    return ref.id;
  }
  const found = await ctx.store.findContainerByName(ctx.db, ctx.workspace, ref.name);
  if (found) return found;
  if (!ref.createIfMissing) throw new PermanentError(`no container named "${ref.name}"`);
  if (ctx.dryRun) {
    effects.push({
      action,
      itemType: 'container',
      itemId: null,
      change: 'would_create',
      detail: ref.name,
    });
    return null;
  }
  const id = await ctx.store.createContainer(ctx.db, ctx.workspace, ctx.actingUserId, {
    name: ref.name,
    description: null,
  });
  effects.push({ action, itemType: 'container', itemId: id, change: 'created', detail: ref.name });
  return id;
}

/** The project an action targets inside a container: found, or created (dry: described). */
export async function resolveProject(
  ctx: EffectContext,
  containerId: string | null,
  ref: { name: string; createIfMissing: boolean },
  effects: Effect[],
  action: string,
): Promise<string | null> {
  const found = containerId
    ? await ctx.store.findProjectByTitle(ctx.db, ctx.workspace, containerId, ref.name)
    : null;
  if (found) return found;
  if (!ref.createIfMissing) throw new PermanentError(`no project named "${ref.name}"`);
  if (ctx.dryRun || !containerId) {
    effects.push({
      action,
      itemType: 'project',
      itemId: null,
      change: 'would_create',
      detail: ref.name,
    });
    return null;
  }
  const id = await ctx.store.createProject(ctx.db, ctx.workspace, ctx.actingUserId, {
    title: ref.name,
    description: null,
    status: null,
    containerId,
  });
  effects.push({ action, itemType: 'project', itemId: id, change: 'created', detail: ref.name });
  return id;
}
