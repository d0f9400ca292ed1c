import { z } from 'zod';
import type { FieldError } from '../../http/errors.ts';
import { actionSchema, validateAction } from './actions/registry.ts';
import { parseConditions, validateConditions } from './automation.conditions.ts';
import type { EventSourceDefinition } from './automation.source.ts';
import { ruleSyncFields, validateWriteBack } from './automation.write-back.ts';

/**
 * A user automation's definition: trigger, conditions, actions. The zod schemas give the
 * shape (and the OpenAPI document); `validateDefinition` adds what a shape cannot say
 * (event belongs to source, known fields in templates and conditions, valid enums).
 */
export const triggerSchema = z
  .object({
    source: z
      .string()
      .min(1)
      .max(50)
      .describe(
        'The provider whose events trigger the rule (its id, as in /api/settings/integrations)',
      ),
    event: z
      .string()
      .min(1)
      .max(100)
      .describe('One of the source’s trigger events, e.g. issue.created, page.properties_updated'),
    scope: z
      .object({
        teamId: z.string().min(1).nullish().describe('Linear team id'),
        databaseId: z.string().min(1).nullish().describe('Notion database id'),
        parentPageId: z.string().min(1).nullish().describe('Notion parent page id'),
      })
      .default({}),
  })
  .meta({ id: 'AutomationTrigger' });

export const definitionSchema = z.object({
  trigger: triggerSchema,
  conditions: z
    .unknown()
    .optional()
    .describe('JSON Logic over the normalized event (or a string holding it); null = always'),
  actions: z.array(actionSchema).min(1).max(10),
  ...ruleSyncFields,
});

export type AutomationTrigger = z.infer<typeof triggerSchema>;
export type AutomationDefinition = z.infer<typeof definitionSchema>;

/**
 * Semantic validation of a definition that already has the right shape. Returns the
 * conditions as parsed JSON (they may arrive as a string) and every problem found.
 */
export function validateDefinition(
  definition: AutomationDefinition,
  sources: readonly EventSourceDefinition[],
): {
  conditions: unknown;
  errors: FieldError[];
} {
  const errors: FieldError[] = [];
  const { trigger } = definition;
  const source = sources.find((s) => s.id === trigger.source);
  if (!source)
    errors.push({
      path: 'trigger.source',
      message: `must be one of ${sources.map((s) => s.id).join(', ')}`,
    });
  else {
    if (!source.triggerEvents.includes(trigger.event))
      errors.push({
        path: 'trigger.event',
        message: `"${trigger.event}" is not a ${trigger.source} event (one of ${source.triggerEvents.join(', ')})`,
      });
    errors.push(...source.checkScope(trigger.scope));
  }
  errors.push(
    ...validateWriteBack(
      { sync: definition.sync ?? 'from_provider', writeBack: definition.writeBack ?? null },
      source?.writesBack === true,
    ),
  );

  const parsed = parseConditions(definition.conditions);
  errors.push(...parsed.errors);
  if (parsed.errors.length === 0) errors.push(...validateConditions(parsed.value));

  definition.actions.forEach((action, i) => {
    errors.push(...validateAction(action, `actions.${i}`));
  });
  return { conditions: parsed.value ?? null, errors };
}
