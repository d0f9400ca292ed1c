import { z } from 'zod';
import {
  booleanQuery,
  itemEnvelope,
  listEnvelope,
  listQueryShape,
} from '../public-api/public-api.schemas.ts';

export const organisationMemberSchema = z
  .object({
    userId: z.string(),
    role: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    imageUrl: z.string().nullable(),
  })
  .meta({ id: 'OrganisationMember' });

export const organisationSchema = z
  .object({
    _id: z.string(),
    id: z.string().meta({
      description:
        'External id: the Clerk organisation id, or for an organisation created through the API the id its creator chose.',
    }),
    name: z.string(),
    members: z
      .array(organisationMemberSchema)
      .optional()
      .meta({ description: 'With `includeMembers=true`.' }),
    plan: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .meta({ description: 'With `includePlan=true`; null when there is no billing data.' }),
  })
  .meta({ id: 'Organisation', description: 'A shared workspace with members and roles.' });
export type Organisation = z.infer<typeof organisationSchema>;

export const exampleOrganisation: Organisation = {
  _id: 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
  id: 'org_2abcDEF345',
  name: 'Acme Studio',
  members: [
    {
      userId: '5d0c6c0e-8d8c-4f4b-9d7a-3b1f0e2a9c44',
      role: 'org:admin',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      imageUrl: null,
    },
  ],
  plan: null,
};

export const organisationExpandQuery = {
  includeMembers: booleanQuery.optional(),
  includePlan: booleanQuery.optional(),
};

export const organisationListQuerySchema = z.object({
  ...organisationExpandQuery,
  ...listQueryShape,
});
export type OrganisationListQuery = z.infer<typeof organisationListQuerySchema>;

export const organisationGetQuerySchema = z.object(organisationExpandQuery);
export type OrganisationGetQuery = z.infer<typeof organisationGetQuerySchema>;

export const organisationCreateSchema = z
  .object({
    id: z.string().min(1).max(200).meta({
      description:
        'External id of your choice, unique among the organisations you created. Ids starting with `org_` are Clerk’s and are refused (400): Clerk organisations and their members come only from Clerk.',
    }),
    name: z.string().min(1).max(200),
  })
  .meta({ id: 'OrganisationCreate', example: { id: 'acme-studio', name: 'Acme Studio' } });
export type OrganisationCreate = z.infer<typeof organisationCreateSchema>;

export const organisationUpdateSchema = z
  .object({ name: z.string().min(1).max(200).optional() })
  .meta({ id: 'OrganisationUpdate', example: { name: 'Acme' } });
export type OrganisationUpdate = z.infer<typeof organisationUpdateSchema>;

const { members: _m, plan: _p, ...bare } = exampleOrganisation;
export const organisationResponse = itemEnvelope(organisationSchema, exampleOrganisation);
export const organisationCreatedResponse = itemEnvelope(organisationSchema, bare);
export const organisationListResponse = listEnvelope(organisationSchema, bare);
