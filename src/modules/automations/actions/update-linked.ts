import { z } from 'zod';
import type { Effect, EffectContext, TaskPatch } from '../automation.effects.ts';
import type { ExternalRef } from '../automation.event.ts';
import { listExternalItems, workspaceKeyOf } from '../automations.repository.ts';
import { defineAction } from './action.ts';
import {
  checkTaskFields,
  type PlannedTaskFields,
  renderTaskFields,
  taskFields,
  taskPatch,
} from './action-targets.ts';

export interface PlannedUpdateLinked {
  type: 'update_linked';
  task: PlannedTaskFields;
  externalLink: ExternalRef;
}

/** Applies `patch` to every live task linked to the entity (or describes it, dry). */
export async function updateLinkedTasks(
  ctx: EffectContext,
  input: { action: string; externalLink: ExternalRef; patch: TaskPatch },
): Promise<Effect[]> {
  const { action } = input;
  const items = await listExternalItems(ctx.db, {
    workspaceKey: workspaceKeyOf(ctx.workspace),
    provider: input.externalLink.provider,
    externalId: input.externalLink.externalId,
    itemType: 'task',
  });
  const live = items.flatMap((i) => (i.itemId && !i.removedAt ? [i.itemId] : []));
  if (live.length === 0)
    return [
      {
        action,
        itemType: 'task',
        itemId: null,
        change: 'not_found',
        detail: 'no item is linked to this entity',
      },
    ];
  const effects: Effect[] = [];
  for (const itemId of live) {
    if (ctx.dryRun) {
      effects.push({ action, itemType: 'task', itemId, change: 'would_update' });
      continue;
    }
    const ok = await ctx.store.updateTask(
      ctx.db,
      ctx.workspace,
      ctx.actingUserId,
      itemId,
      input.patch,
    );
    effects.push({ action, itemType: 'task', itemId, change: ok ? 'updated' : 'not_found' });
  }
  return effects;
}

/** Updates the tasks linked to the entity with the rendered fields. */
export const updateLinkedAction = defineAction({
  type: 'update_linked',
  schema: z.object({ type: z.literal('update_linked'), task: taskFields.partial() }),
  validate(action, at) {
    const errors = checkTaskFields(action.task, `${at}.task`);
    if (Object.keys(action.task).length === 0)
      errors.push({ path: `${at}.task`, message: 'name at least one field to update' });
    return errors;
  },
  plan(action, event, warnings): PlannedUpdateLinked {
    return {
      type: 'update_linked',
      task: renderTaskFields(action.task, event.fields, warnings),
      externalLink: event.ref,
    };
  },
  apply: (ctx, planned) =>
    updateLinkedTasks(ctx, {
      action: planned.type,
      externalLink: planned.externalLink,
      patch: taskPatch(planned.task),
    }),
});
