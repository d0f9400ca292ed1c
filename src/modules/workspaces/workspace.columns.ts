import { bigint, uuid } from 'drizzle-orm/pg-core';
import { organisations, users } from '../identity/identity.table.ts';

/**
 * Columns every workspace-scoped table shares. `workspace_id` is the owning workspace as one
 * non-null key: the organisation's id for organisation items, the owner's user id for personal
 * items. Visibility is then a single `workspace_id = ANY(...)` (an equality when the caller has
 * one workspace or filters on one), which every list index leads with.
 */
export const workspaceColumns = () => ({
  id: uuid('id').primaryKey().defaultRandom(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  organisationId: uuid('organisation_id').references(() => organisations.id, {
    onDelete: 'cascade',
  }),
  workspaceId: uuid('workspace_id').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
