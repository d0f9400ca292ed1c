import { z } from 'zod';

export const settingsUserSchema = z
  .object({
    id: z.string().describe('Internal user id'),
    clerkId: z.string().describe('Clerk user id (user_…)'),
    email: z.string().nullable().describe('Primary email address; null until Clerk sent it'),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    imageUrl: z.string().nullable(),
    createdAt: z.number().int().describe('Epoch milliseconds'),
    updatedAt: z.number().int().describe('Epoch milliseconds'),
  })
  .meta({ id: 'SettingsUser' });

export const settingsOrganisationSchema = z
  .object({
    id: z.string().describe('Internal organisation id (the organisationId of API items)'),
    clerkId: z.string().describe('Clerk organisation id (org_…)'),
    name: z.string(),
    slug: z.string().nullable(),
    imageUrl: z.string().nullable(),
  })
  .meta({ id: 'SettingsOrganisation' });

export const settingsMembershipSchema = z
  .object({
    organisation: settingsOrganisationSchema,
    role: z.string().describe('Clerk role key, e.g. org:admin or org:member'),
    joinedAt: z.number().int().describe('Epoch milliseconds'),
  })
  .meta({ id: 'SettingsMembership' });

export const activeWorkspaceSchema = z
  .object({
    type: z.enum(['personal', 'organisation']),
    organisationId: z
      .string()
      .nullable()
      .describe('Internal id of the active organisation; null for the personal workspace'),
    organisationClerkId: z.string().nullable(),
    name: z.string().nullable().describe('Organisation name; null for the personal workspace'),
    role: z.string().nullable().describe('Your role in the active organisation'),
  })
  .meta({
    id: 'ActiveWorkspace',
    description:
      'The workspace the session is in: the organisation active in the Clerk session, else the personal workspace.',
  });

export const settingsMeSchema = z
  .object({
    user: settingsUserSchema,
    memberships: z.array(settingsMembershipSchema),
    activeWorkspace: activeWorkspaceSchema,
  })
  .meta({ id: 'SettingsMe' });

export type SettingsMe = z.infer<typeof settingsMeSchema>;
