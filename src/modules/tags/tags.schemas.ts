import { z } from 'zod';
import {
  itemEnvelope,
  listEnvelope,
  listQueryShape,
  organisationIdFilter,
  organisationIdInput,
} from '../public-api/public-api.schemas.ts';
import type { EntityTypes } from './tags.table.ts';

const colorSchema = z.string().min(1).max(64);

/**
 * The API shapes of one kind of tag (categories, labels): the object, create and update bodies,
 * the list query and the envelopes. `id` names them in the OpenAPI document (`Category`,
 * `CategoryCreate`, ...); `example` is the tag every example shows.
 */
export function tagSchemas<const Types extends EntityTypes>(kind: {
  id: string;
  description: string;
  entityTypes: Types;
  example: { name: string; color: string; entityType: Types[number] };
}) {
  const entityType = z.enum(kind.entityTypes);
  const item = z
    .object({
      _id: z.string(),
      name: z.string(),
      color: z.string().nullable(),
      entityType,
      organisationId: z.string().nullable(),
    })
    .meta({ id: kind.id, description: kind.description });
  const example: z.infer<typeof item> = {
    _id: '2c1d7e0a-6b5f-4e3d-8c2b-1a0f9e8d7c6b',
    ...kind.example,
    organisationId: null,
  };
  return {
    item,
    example,
    create: z
      .object({
        name: z.string().min(1).max(200),
        color: colorSchema.nullable().optional(),
        entityType,
        organisationId: organisationIdInput.optional(),
      })
      .meta({ id: `${kind.id}Create`, example: kind.example }),
    update: z
      .object({
        name: z.string().min(1).max(200).optional(),
        color: colorSchema.nullable().optional(),
        entityType: entityType.optional(),
      })
      .meta({ id: `${kind.id}Update`, example: { color: null } }),
    listQuery: z.object({
      entityType: entityType.optional(),
      organisationId: organisationIdFilter.optional(),
      ...listQueryShape,
    }),
    response: itemEnvelope(item, example),
    listResponse: listEnvelope(item, example),
  };
}

export type TagSchemas<Types extends EntityTypes> = ReturnType<typeof tagSchemas<Types>>;
