import { and, arrayContains, asc, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { inWorkspaces } from '../workspaces/workspace.repository.ts';
import type { EntityTypes, TagInsert, TagRow, TagTable } from './tags.table.ts';

/** The SQL of one tag table (categories or labels). */
export function tagRepository<Types extends EntityTypes>(tableOfTypes: TagTable<Types>) {
  // One table type for the queries; rows are read back with the table's own entity types.
  const table = tableOfTypes as unknown as TagTable;
  type Row = TagRow<Types>;
  type Insert = TagInsert<Types>;

  return {
    async list(
      db: Executor,
      input: {
        workspaceIds: readonly string[];
        entityType?: Types[number] | undefined;
        limit: number;
        offset: number;
      },
    ): Promise<Row[]> {
      const where: SQL[] = [inWorkspaces(table.workspaceId, input.workspaceIds)];
      if (input.entityType) where.push(eq(table.entityType, input.entityType));
      const rows = await db
        .select()
        .from(table)
        .where(and(...where))
        .orderBy(desc(table.updatedAt), asc(table.id))
        .limit(input.limit)
        .offset(input.offset);
      return rows as Row[];
    },

    async find(
      db: Executor,
      input: { id: string; workspaceIds: readonly string[] },
    ): Promise<Row | undefined> {
      const rows = await db
        .select()
        .from(table)
        .where(and(eq(table.id, input.id), inWorkspaces(table.workspaceId, input.workspaceIds)))
        .limit(1);
      return rows[0] as Row | undefined;
    },

    async findByIds(db: Executor, ids: readonly string[]): Promise<Row[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .select()
        .from(table)
        .where(inArray(table.id, [...ids]));
      return rows as Row[];
    },

    async insert(db: Executor, values: Insert): Promise<Row> {
      const rows = await db.insert(table).values(values).returning();
      return rows[0] as Row;
    },

    async update(db: Executor, id: string, values: Partial<Insert>): Promise<Row | undefined> {
      const rows = await db.update(table).set(values).where(eq(table.id, id)).returning();
      return rows[0] as Row | undefined;
    },

    async remove(db: Executor, id: string): Promise<void> {
      await db.delete(table).where(eq(table.id, id));
    },
  };
}

export type TagRepository<Types extends EntityTypes> = ReturnType<typeof tagRepository<Types>>;

/**
 * The SQL of a reference to tags held in another module's column: a uuid column (one tag per
 * item, cleared by its foreign key) or a uuid[] column (any number, cleared here).
 */
export function tagReferenceQueries(column: PgColumn, many: boolean) {
  const carrying = (tagId: string): SQL =>
    many ? arrayContains(column, [tagId]) : eq(column, tagId);
  return {
    async carries(db: Executor, tagId: string): Promise<boolean> {
      const rows = await db
        .select({ one: sql`1` })
        .from(column.table)
        .where(carrying(tagId))
        .limit(1);
      return rows.length > 0;
    },
    async removeFromAll(db: Executor, tagId: string): Promise<void> {
      await db.execute(
        sql`update ${column.table} set ${sql.identifier(column.name)} = array_remove(${column}, ${tagId}::uuid) where ${carrying(tagId)}`,
      );
    },
  };
}
