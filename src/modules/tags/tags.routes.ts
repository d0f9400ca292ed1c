import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import type { TagSchemas } from './tags.schemas.ts';
import type { TagHolder, TagService } from './tags.service.ts';
import type { EntityTypes } from './tags.table.ts';

export interface TagRoutesOptions<Types extends EntityTypes> {
  /** Every module whose items carry this kind of tag (wired in `planning/`). */
  holders: readonly TagHolder<Types[number]>[];
}

/** The five routes of one kind of tag; `deleteNote` says what deleting one does to its items. */
export function tagRoutes<Types extends EntityTypes>(kind: {
  singular: string;
  plural: string;
  schemas: NoInfer<TagSchemas<Types>>;
  service: TagService<Types>;
  deleteNote: string;
}): FastifyPluginAsync<TagRoutesOptions<Types>> {
  const { schemas, service } = kind;
  return async (app, { holders }) => {
    registerCrudRoutes(app, {
      singular: kind.singular,
      plural: kind.plural,
      listQuery: schemas.listQuery,
      createBody: schemas.create,
      updateBody: schemas.update,
      itemResponse: schemas.response,
      listResponse: schemas.listResponse,
      updateErrors: [409],
      deleteNote: kind.deleteNote,
      list: service.list,
      create: service.create,
      get: service.get,
      update: (db, actor, id, patch) => service.update(db, actor, { id, patch, holders }),
      remove: (db, actor, id) => service.remove(db, actor, { id, holders }),
    });
  };
}
