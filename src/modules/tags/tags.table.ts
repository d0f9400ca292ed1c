import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { workspaceColumns } from '../workspaces/workspace.columns.ts';

/** The entity types a kind of tag can be of (categories: four, labels: two). */
export type EntityTypes = readonly [string, ...string[]];

/**
 * A tag table (categories, labels): a workspace-scoped name and colour for items of one entity
 * type. Both tables are this shape; only the table name and the entity types differ.
 */
export function tagTable<const Name extends string, const Types extends EntityTypes>(
  name: Name,
  entityTypes: Types,
) {
  return pgTable(
    name,
    {
      ...workspaceColumns(),
      name: text('name').notNull(),
      color: text('color'),
      entityType: text('entity_type', { enum: entityTypes }).notNull(),
    },
    (t) => [
      index(`${name}_ws_order_idx`).on(t.workspaceId, t.updatedAt.desc().nullsFirst(), t.id),
      index(`${name}_ws_type_idx`).on(
        t.workspaceId,
        t.entityType,
        t.updatedAt.desc().nullsFirst(),
        t.id,
      ),
    ],
  );
}

export type TagTable<Types extends EntityTypes = EntityTypes> = ReturnType<
  typeof tagTable<string, Types>
>;
type AnyTagTable = TagTable;
/** A row of a tag table whose entity types are `Types`. */
export type TagRow<Types extends EntityTypes = EntityTypes> = Omit<
  AnyTagTable['$inferSelect'],
  'entityType'
> & { entityType: Types[number] };
export type TagInsert<Types extends EntityTypes = EntityTypes> = Omit<
  AnyTagTable['$inferInsert'],
  'entityType'
> & { entityType: Types[number] };
