import { z } from 'zod';
import type { FieldError } from '../../http/errors.ts';
import { projectStatuses } from '../projects/projects.table.ts';
import { taskBuckets } from '../tasks/tasks.table.ts';
import { parseConditions, validateConditions } from './automation.conditions.ts';
import type { EventSourceDefinition } from './automation.source.ts';
import { validateTemplate } from './automation.templates.ts';

/**
 * A user automation's definition: trigger, conditions, actions. The zod schemas give the
 * shape (and the OpenAPI document); `validateDefinition` adds what a shape cannot say
 * (event belongs to source, known fields in templates and conditions, valid enums).
 */
const template = z
  .string()
  .min(1)
  .max(2000)
  .describe('Text with {{field}} placeholders filled from the normalized event');

export const triggerSchema = z
  .object({
    source: z.string().min(1).max(50).describe('A provider id (GET /openapi.json lists them)'),
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

const containerTarget = z
  .object({
    id: z.uuid().nullish().describe('An existing container of the workspace'),
    name: template.nullish().describe('Find the container by name (template)'),
    createIfMissing: z.boolean().default(true),
  })
  .meta({ id: 'AutomationContainerTarget' });

const projectTarget = z
  .object({
    name: template.describe('Find the project by title in the container (template)'),
    createIfMissing: z.boolean().default(true),
  })
  .meta({ id: 'AutomationProjectTarget' });

const taskFields = z.object({
  title: template,
  notes: template.nullish(),
  bucket: template.nullish().describe('A bucket, or a template such as {{bucket}}'),
  dueDate: template.nullish(),
  doDate: template.nullish(),
});

export const actionSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('create_task'),
      task: taskFields,
      project: projectTarget.nullish(),
      container: containerTarget.nullish(),
    }),
    z.object({
      type: z.literal('create_project'),
      project: z.object({
        title: template,
        description: template.nullish(),
        status: template.nullish(),
      }),
      container: containerTarget,
    }),
    z.object({
      type: z.literal('create_container'),
      container: z.object({ name: template, description: template.nullish() }),
    }),
    z.object({
      type: z.literal('update_linked'),
      task: taskFields.partial(),
    }),
    z.object({ type: z.literal('complete_linked') }),
  ])
  .meta({ id: 'AutomationAction' });

export const definitionSchema = z.object({
  trigger: triggerSchema,
  conditions: z
    .unknown()
    .optional()
    .describe('JSON Logic over the normalized event (or a string holding it); null = always'),
  actions: z.array(actionSchema).min(1).max(10),
});

export type AutomationTrigger = z.infer<typeof triggerSchema>;
export type AutomationAction = z.infer<typeof actionSchema>;
export type AutomationDefinition = z.infer<typeof definitionSchema>;

function checkEnumOrTemplate(
  value: string | null | undefined,
  allowed: readonly string[],
  path: string,
  errors: FieldError[],
) {
  if (value === null || value === undefined) return;
  if (value.includes('{{')) {
    errors.push(...validateTemplate(value, path));
    return;
  }
  if (!allowed.includes(value))
    errors.push({ path, message: `must be one of ${allowed.join(', ')} or a template` });
}

function checkTemplate(value: string | null | undefined, path: string, errors: FieldError[]) {
  if (value === null || value === undefined) return;
  errors.push(...validateTemplate(value, path));
}

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

  const parsed = parseConditions(definition.conditions);
  errors.push(...parsed.errors);
  if (parsed.errors.length === 0) errors.push(...validateConditions(parsed.value));

  definition.actions.forEach((action, i) => {
    const at = `actions.${i}`;
    switch (action.type) {
      case 'create_task':
      case 'update_linked': {
        const t = action.task;
        checkTemplate(t.title, `${at}.task.title`, errors);
        checkTemplate(t.notes, `${at}.task.notes`, errors);
        checkTemplate(t.dueDate, `${at}.task.dueDate`, errors);
        checkTemplate(t.doDate, `${at}.task.doDate`, errors);
        checkEnumOrTemplate(t.bucket, taskBuckets, `${at}.task.bucket`, errors);
        if (action.type === 'create_task') {
          if (action.project) checkTemplate(action.project.name, `${at}.project.name`, errors);
          if (action.project && !action.container)
            errors.push({
              path: `${at}.container`,
              message: 'a project is found or created inside a container: name one',
            });
          if (action.container) checkContainer(action.container, `${at}.container`, errors);
        }
        if (action.type === 'update_linked' && Object.keys(action.task).length === 0)
          errors.push({ path: `${at}.task`, message: 'name at least one field to update' });
        break;
      }
      case 'create_project':
        checkTemplate(action.project.title, `${at}.project.title`, errors);
        checkTemplate(action.project.description, `${at}.project.description`, errors);
        checkEnumOrTemplate(action.project.status, projectStatuses, `${at}.project.status`, errors);
        checkContainer(action.container, `${at}.container`, errors);
        break;
      case 'create_container':
        checkTemplate(action.container.name, `${at}.container.name`, errors);
        checkTemplate(action.container.description, `${at}.container.description`, errors);
        break;
      case 'complete_linked':
        break;
    }
  });
  return { conditions: parsed.value ?? null, errors };
}

function checkContainer(
  target: { id?: string | null | undefined; name?: string | null | undefined },
  path: string,
  errors: FieldError[],
) {
  if (!target.id && !target.name)
    errors.push({ path, message: 'give the container id or a name to find it by' });
  checkTemplate(target.name, `${path}.name`, errors);
}
