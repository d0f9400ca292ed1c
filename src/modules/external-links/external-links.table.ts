import { bigint, index, pgTable, text, unique, uuid } from 'drizzle-orm/pg-core';

export const externalProviders = ['linear', 'notion', 'url'] as const;
export type ExternalProvider = (typeof externalProviders)[number];
export const linkableEntityTypes = ['container', 'project', 'task'] as const;
export type LinkableEntityType = (typeof linkableEntityTypes)[number];

/**
 * Links between a MONOid item and an item of another tool (a Linear issue, a Notion page).
 * The Linear and Notion sync write them; the public API reads and filters them. One MONOid
 * item per external item per container: (provider, external_id, container_id) is unique, with
 * a null container counting as one value (items outside any container).
 * `entity_id` is polymorphic (no foreign key); the services delete an item's links with it.
 */
export const externalLinks = pgTable(
  'external_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    provider: text('provider', { enum: externalProviders }).notNull(),
    externalId: text('external_id').notNull(),
    url: text('url'),
    title: text('title'),
    entityType: text('entity_type', { enum: linkableEntityTypes }).notNull(),
    entityId: uuid('entity_id').notNull(),
    containerId: uuid('container_id'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    unique('external_links_item_container_key')
      .on(t.provider, t.externalId, t.containerId)
      .nullsNotDistinct(),
    index('external_links_entity_idx').on(t.entityType, t.entityId, t.provider),
  ],
);

export type ExternalLinkRow = typeof externalLinks.$inferSelect;
