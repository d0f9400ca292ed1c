import { z } from 'zod';
import type { FieldError } from '../../../http/errors.ts';
import type { Effect, EffectContext } from '../automation.effects.ts';
import type { NormalizedEvent } from '../automation.event.ts';
import { completeLinkedAction } from './complete-linked.ts';
import { createContainerAction } from './create-container.ts';
import { createProjectAction } from './create-project.ts';
import { createTaskAction } from './create-task.ts';
import { updateLinkedAction } from './update-linked.ts';

/** The only list of automation actions. A new action is one file here and one line below. */
export const automationActions = [
  createTaskAction,
  createProjectAction,
  createContainerAction,
  updateLinkedAction,
  completeLinkedAction,
] as const;

type Action = (typeof automationActions)[number];
type ActionSchema = Action['schema'];

export const actionSchema = z
  .discriminatedUnion(
    'type',
    automationActions.map((a) => a.schema) as unknown as [ActionSchema, ...ActionSchema[]],
  )
  .meta({ id: 'AutomationAction' });

export type AutomationAction = z.infer<typeof actionSchema>;
export type PlannedAction = ReturnType<Action['plan']>;

/**
 * The definition of an action type. Each definition's methods take its own action shape; the
 * registry dispatches on `type`, so the casts below only restate what `type` already proved.
 */
interface AnyAction {
  validate(action: unknown, at: string): FieldError[];
  plan(action: unknown, event: NormalizedEvent, warnings: string[]): PlannedAction;
  apply(ctx: EffectContext, planned: unknown): Promise<Effect[]>;
}
const byType = new Map<string, AnyAction>(
  automationActions.map((a) => [a.type, a as unknown as AnyAction]),
);

function definitionOf(type: string): AnyAction {
  const found = byType.get(type);
  if (!found) throw new Error(`unknown action type ${type}`);
  return found;
}

export function validateAction(action: AutomationAction, at: string): FieldError[] {
  return definitionOf(action.type).validate(action, at);
}

export function planAction(
  action: AutomationAction,
  event: NormalizedEvent,
  warnings: string[],
): PlannedAction {
  return definitionOf(action.type).plan(action, event, warnings);
}

/** Applies (or, dry, describes) a rule's planned actions, in order. */
export async function applyActions(
  ctx: EffectContext,
  actions: readonly PlannedAction[],
): Promise<Effect[]> {
  const effects: Effect[] = [];
  for (const planned of actions)
    effects.push(...(await definitionOf(planned.type).apply(ctx, planned)));
  return effects;
}
