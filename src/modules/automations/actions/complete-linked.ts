import { z } from 'zod';
import type { ExternalRef } from '../automation.event.ts';
import { defineAction } from './action.ts';
import { updateLinkedTasks } from './update-linked.ts';

export interface PlannedCompleteLinked {
  type: 'complete_linked';
  externalLink: ExternalRef;
}

/** Moves the tasks linked to the entity to `done`. */
export const completeLinkedAction = defineAction({
  type: 'complete_linked',
  schema: z.object({ type: z.literal('complete_linked') }),
  validate: () => [],
  plan: (_action, event): PlannedCompleteLinked => ({
    type: 'complete_linked',
    externalLink: event.ref,
  }),
  apply: (ctx, planned) =>
    updateLinkedTasks(ctx, {
      action: planned.type,
      externalLink: planned.externalLink,
      patch: { bucket: 'done' },
    }),
});
