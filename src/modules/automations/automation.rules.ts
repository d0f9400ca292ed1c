import { type AutomationAction, type PlannedAction, planAction } from './actions/registry.ts';
import { evaluateConditions } from './automation.conditions.ts';
import type { AutomationTrigger } from './automation.definition.ts';
import type { NormalizedEvent, TriggerScope } from './automation.event.ts';

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

export type { PlannedAction };

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
