import { z } from 'zod';
import type { FieldError } from '../../../http/errors.ts';
import { createLinked, type Effect, keyFor } from '../automation.effects.ts';
import type { ExternalRef } from '../automation.event.ts';
import { renderText } from '../automation.templates.ts';
import { findExternalItemForUpdate } from '../automations.repository.ts';
import { checkTemplate, defineAction } from './action.ts';
import {
  type ContainerRef,
  checkContainer,
  checkTaskFields,
  containerTarget,
  type PlannedTaskFields,
  projectTarget,
  renderContainer,
  renderTaskFields,
  resolveContainer,
  resolveProject,
  taskFields,
} from './action-targets.ts';

export interface PlannedCreateTask {
  type: 'create_task';
  task: PlannedTaskFields & { title: string };
  project: { name: string; createIfMissing: boolean } | null;
  container: ContainerRef | null;
  externalLink: ExternalRef;
}

/** Creates a task (in a container and project, found or created), linked to the entity. */
export const createTaskAction = defineAction({
  type: 'create_task',
  schema: z.object({
    type: z.literal('create_task'),
    task: taskFields,
    project: projectTarget.nullish(),
    container: containerTarget.nullish(),
  }),
  validate(action, at) {
    const errors: FieldError[] = checkTaskFields(action.task, `${at}.task`);
    if (action.project) errors.push(...checkTemplate(action.project.name, `${at}.project.name`));
    if (action.project && !action.container)
      errors.push({
        path: `${at}.container`,
        message: 'a project is found or created inside a container: name one',
      });
    if (action.container) errors.push(...checkContainer(action.container, `${at}.container`));
    return errors;
  },
  plan(action, event, warnings): PlannedCreateTask {
    const fields = event.fields;
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
      externalLink: event.ref,
    };
  },
  async apply(ctx, planned) {
    const action = planned.type;
    const effects: Effect[] = [];
    const containerId = planned.container
      ? await resolveContainer(ctx, planned.container, effects, action)
      : null;
    const key = keyFor(ctx, planned.externalLink, 'task', containerId);
    const existing =
      containerId !== null || !planned.container
        ? await findExternalItemForUpdate(ctx.db, key)
        : undefined;
    if (existing?.itemId) {
      effects.push({ action, itemType: 'task', itemId: existing.itemId, change: 'exists' });
      return effects;
    }
    const projectId = planned.project
      ? await resolveProject(ctx, containerId, planned.project, effects, action)
      : null;
    const detail = planned.task.title;
    if (ctx.dryRun) {
      effects.push({ action, itemType: 'task', itemId: null, change: 'would_create', detail });
      return effects;
    }
    const id = await createLinked(ctx, {
      key,
      ref: planned.externalLink,
      itemType: 'task',
      linkContainerId: containerId,
      create: () =>
        ctx.store.createTask(ctx.db, ctx.workspace, ctx.actingUserId, {
          title: planned.task.title,
          notes: planned.task.notes ?? null,
          bucket: planned.task.bucket ?? null,
          dueDate: planned.task.dueDate ?? null,
          doDate: planned.task.doDate ?? null,
          projectId,
          containerId,
          assigneeId: null,
        }),
    });
    effects.push({ action, itemType: 'task', itemId: id, change: 'created', detail });
    return effects;
  },
});
