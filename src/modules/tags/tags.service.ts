import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import {
  type Actor,
  nowMs,
  organisationForWrite,
  pathId,
  visibleWorkspaceIds,
  workspaceKey,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import { type TagRepository, tagReferenceQueries, tagRepository } from './tags.repository.ts';
import type { EntityTypes, TagRow, TagTable } from './tags.table.ts';

/** A tag as the API shows it. */
export interface Tag<Types extends EntityTypes> {
  _id: string;
  name: string;
  color: string | null;
  entityType: Types[number];
  organisationId: string | null;
}

/**
 * A module whose items carry tags of one kind (projects, tasks, routine blocks), as the tag's
 * module sees it. The holder implements it and the composition root (`planning/`) hands it to
 * the tag's routes, so that the tag module never reads the holder's tables.
 */
export interface TagHolder<EntityType extends string> {
  /** The entity types the holder's items accept: a tag changing to another type must be unused. */
  entityTypes: readonly EntityType[];
  /** Whether any of the holder's items carries the tag. */
  carries(db: Executor, tagId: string): Promise<boolean>;
  /** Takes the tag off every item before the tag is deleted (absent where a foreign key does it). */
  release?(db: Executor, tagId: string): Promise<void>;
}

/** A holder whose items reference at most one tag in a uuid column (its foreign key clears it). */
export function tagColumnHolder<EntityType extends string>(
  column: PgColumn,
  entityTypes: readonly EntityType[],
): TagHolder<EntityType> {
  return { entityTypes, carries: tagReferenceQueries(column, false).carries };
}

/** A holder whose items carry any number of tags in a uuid[] column, released on delete. */
export function tagArrayHolder<EntityType extends string>(
  column: PgColumn,
  entityTypes: readonly EntityType[],
): TagHolder<EntityType> {
  const queries = tagReferenceQueries(column, true);
  return { entityTypes, carries: queries.carries, release: queries.removeFromAll };
}

export interface TagListQuery<Types extends EntityTypes> {
  entityType?: Types[number] | undefined;
  organisationId?: string | undefined;
  limit: number;
  offset: number;
}

export interface TagCreate<Types extends EntityTypes> {
  name: string;
  color?: string | null | undefined;
  entityType: Types[number];
  organisationId?: string | null | undefined;
}

export interface TagUpdate<Types extends EntityTypes> {
  name?: string | undefined;
  color?: string | null | undefined;
  entityType?: Types[number] | undefined;
}

/**
 * The rules of one kind of tag (`noun`: `Category`, `Label`). Everything but the holders is the
 * same for every kind; what differs between kinds (which items carry them, what deleting one
 * does to them) is in the holders.
 */
export function tagService<Types extends EntityTypes>(kind: {
  noun: string;
  table: TagTable<Types>;
}) {
  const repo: TagRepository<Types> = tagRepository(kind.table);
  const noun = kind.noun;
  const lower = noun.toLowerCase();

  function present(r: TagRow<Types>): Tag<Types> {
    return {
      _id: r.id,
      name: r.name,
      color: r.color,
      entityType: r.entityType,
      organisationId: r.organisationId,
    };
  }

  function findVisible(db: Executor, actor: Actor, id: string) {
    return repo.find(db, { id, workspaceIds: visibleWorkspaceIds(actor) });
  }

  return {
    repo,

    async list(db: Executor, actor: Actor, query: TagListQuery<Types>): Promise<Tag<Types>[]> {
      const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
      const rows = await repo.list(db, {
        workspaceIds,
        entityType: query.entityType,
        limit: query.limit,
        offset: query.offset,
      });
      return rows.map(present);
    },

    /** Tags by id (for expanding them on the items that carry them). */
    async byIds(db: Executor, ids: readonly string[]): Promise<Map<string, Tag<Types>>> {
      const rows = await repo.findByIds(db, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, present(r)]));
    },

    async get(db: Executor, actor: Actor, id: string): Promise<Tag<Types>> {
      const row = await findVisible(db, actor, pathId(id, noun));
      if (!row) throw notFound(noun);
      return present(row);
    },

    async create(db: Executor, actor: Actor, input: TagCreate<Types>): Promise<Tag<Types>> {
      const organisationId = (await organisationForWrite(db, actor, input.organisationId)) ?? null;
      const now = nowMs();
      const row = await repo.insert(db, {
        userId: actor.userId,
        organisationId,
        workspaceId: workspaceKey(actor, organisationId),
        name: input.name,
        color: input.color ?? null,
        entityType: input.entityType,
        createdAt: now,
        updatedAt: now,
      });
      return present(row);
    },

    /** A type change is a 409 while items of a type the new one does not fit carry the tag. */
    async update(
      db: Executor,
      actor: Actor,
      input: { id: string; patch: TagUpdate<Types>; holders: readonly TagHolder<Types[number]>[] },
    ): Promise<Tag<Types>> {
      const tagId = pathId(input.id, noun);
      const { patch } = input;
      return db.transaction(async (tx) => {
        const existing = await findVisible(tx, actor, tagId);
        if (!existing) throw notFound(noun);
        const newType = patch.entityType;
        if (newType !== undefined && newType !== existing.entityType) {
          for (const holder of input.holders) {
            if (!holder.entityTypes.includes(newType) && (await holder.carries(tx, tagId))) {
              throw conflict(`The ${lower} is in use by items of its current entity type.`);
            }
          }
        }
        const row = await repo.update(tx, tagId, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.color !== undefined ? { color: patch.color } : {}),
          ...(newType !== undefined ? { entityType: newType } : {}),
          updatedAt: nowMs(),
        });
        if (!row) throw notFound(noun);
        return present(row);
      });
    },

    async remove(
      db: Executor,
      actor: Actor,
      input: { id: string; holders: readonly TagHolder<Types[number]>[] },
    ): Promise<void> {
      const tagId = pathId(input.id, noun);
      await db.transaction(async (tx) => {
        const existing = await findVisible(tx, actor, tagId);
        if (!existing) throw notFound(noun);
        for (const holder of input.holders) await holder.release?.(tx, tagId);
        await repo.remove(tx, tagId);
      });
    },
  };
}

export type TagService<Types extends EntityTypes> = ReturnType<typeof tagService<Types>>;
