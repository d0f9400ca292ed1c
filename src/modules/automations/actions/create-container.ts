import { z } from 'zod';
import { createLinked, type Effect, keyFor } from '../automation.effects.ts';
import type { ExternalRef } from '../automation.event.ts';
import { renderText } from '../automation.templates.ts';
import { findExternalItemForUpdate } from '../automations.repository.ts';
import { checkTemplate, defineAction, template } from './action.ts';

export interface PlannedCreateContainer {
  type: 'create_container';
  container: { name: string; description: string | null };
  externalLink: ExternalRef;
}

/** Creates a container linked to the entity. */
export const createContainerAction = defineAction({
  type: 'create_container',
  schema: z.object({
    type: z.literal('create_container'),
    container: z.object({ name: template, description: template.nullish() }),
  }),
  validate(action, at) {
    return [
      ...checkTemplate(action.container.name, `${at}.container.name`),
      ...checkTemplate(action.container.description, `${at}.container.description`),
    ];
  },
  plan(action, event): PlannedCreateContainer {
    return {
      type: 'create_container',
      container: {
        name: renderText(action.container.name, event.fields) ?? 'Untitled',
        description: renderText(action.container.description, event.fields),
      },
      externalLink: event.ref,
    };
  },
  async apply(ctx, planned) {
    const action = planned.type;
    const effects: Effect[] = [];
    const key = keyFor(ctx, planned.externalLink, 'container', null);
    const existing = await findExternalItemForUpdate(ctx.db, key);
    if (existing?.itemId) {
      effects.push({ action, itemType: 'container', itemId: existing.itemId, change: 'exists' });
      return effects;
    }
    const detail = planned.container.name;
    if (ctx.dryRun) {
      effects.push({ action, itemType: 'container', itemId: null, change: 'would_create', detail });
      return effects;
    }
    const id = await createLinked(ctx, {
      key,
      ref: planned.externalLink,
      itemType: 'container',
      // A container's link sits outside any container: the public API's links are unique
      // per (external item, container), and a project made in this container for the same
      // external item (create_container + create_project) must keep its own link.
      linkContainerId: null,
      create: () =>
        ctx.store.createContainer(ctx.db, ctx.workspace, ctx.actingUserId, planned.container),
    });
    effects.push({ action, itemType: 'container', itemId: id, change: 'created', detail });
    return effects;
  },
});
