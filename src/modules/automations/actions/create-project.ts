import { z } from 'zod';
import { type ProjectStatus, projectStatuses } from '../../projects/projects.table.ts';
import { createLinked, type Effect, keyFor } from '../automation.effects.ts';
import type { ExternalRef } from '../automation.event.ts';
import { renderText } from '../automation.templates.ts';
import { findExternalItemForUpdate } from '../automations.repository.ts';
import { checkEnumOrTemplate, checkTemplate, defineAction, template } from './action.ts';
import {
  type ContainerRef,
  checkContainer,
  containerTarget,
  renderContainer,
  resolveContainer,
} from './action-targets.ts';

export interface PlannedCreateProject {
  type: 'create_project';
  project: { title: string; description: string | null; status: ProjectStatus | null };
  container: ContainerRef;
  externalLink: ExternalRef;
}

const statuses: readonly string[] = projectStatuses;

/** Creates a project in a container (found or created), linked to the entity. */
export const createProjectAction = defineAction({
  type: 'create_project',
  schema: z.object({
    type: z.literal('create_project'),
    project: z.object({
      title: template,
      description: template.nullish(),
      status: template.nullish(),
    }),
    container: containerTarget,
  }),
  validate(action, at) {
    return [
      ...checkTemplate(action.project.title, `${at}.project.title`),
      ...checkTemplate(action.project.description, `${at}.project.description`),
      ...checkEnumOrTemplate(action.project.status, projectStatuses, `${at}.project.status`),
      ...checkContainer(action.container, `${at}.container`),
    ];
  },
  plan(action, event, warnings): PlannedCreateProject {
    const fields = event.fields;
    const status = renderText(action.project.status, fields);
    if (status && !statuses.includes(status))
      warnings.push(`project status "${status}" is not a status; the default is used`);
    return {
      type: 'create_project',
      project: {
        title: renderText(action.project.title, fields) ?? 'Untitled',
        description: renderText(action.project.description, fields),
        status: status && statuses.includes(status) ? (status as ProjectStatus) : null,
      },
      container: renderContainer(action.container, fields),
      externalLink: event.ref,
    };
  },
  async apply(ctx, planned) {
    const action = planned.type;
    const effects: Effect[] = [];
    const containerId = await resolveContainer(ctx, planned.container, effects, action);
    const key = keyFor(ctx, planned.externalLink, 'project', containerId);
    const existing = containerId ? await findExternalItemForUpdate(ctx.db, key) : undefined;
    if (existing?.itemId) {
      effects.push({ action, itemType: 'project', itemId: existing.itemId, change: 'exists' });
      return effects;
    }
    const detail = planned.project.title;
    if (ctx.dryRun || !containerId) {
      effects.push({ action, itemType: 'project', itemId: null, change: 'would_create', detail });
      return effects;
    }
    const id = await createLinked(ctx, {
      key,
      ref: planned.externalLink,
      itemType: 'project',
      linkContainerId: containerId,
      create: () =>
        ctx.store.createProject(ctx.db, ctx.workspace, ctx.actingUserId, {
          ...planned.project,
          containerId,
        }),
    });
    effects.push({ action, itemType: 'project', itemId: id, change: 'created', detail });
    return effects;
  },
});
