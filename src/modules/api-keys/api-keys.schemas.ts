import { z } from 'zod';
import { scopes } from '../../http/auth-context.ts';

export const scopeSchema = z.enum(scopes).meta({ id: 'ApiKeyScope' });

const workspaceBindingSchema = z
  .string()
  .nullable()
  .describe(
    'The one workspace the key reaches: `personal`, an organisation `_id`, or null (every workspace of its user)',
  );

/** A key as the settings UI sees it. No hash and no key: they cannot serialise. */
export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    lastFour: z.string(),
    displayKey: z.string().describe('mo_... plus the last four characters'),
    scopes: z.array(scopeSchema),
    status: z.enum(['active', 'revoked', 'expired']),
    expiresAt: z.number().int().nullable().describe('epoch ms; null: never expires'),
    createdAt: z.number().int().describe('epoch ms'),
    lastUsedAt: z.number().int().nullable().describe('epoch ms; recorded at most once a minute'),
    revokedAt: z.number().int().nullable(),
    revokeReason: z.string().nullable(),
    replacedById: z.string().nullable().describe('the key that replaced this one (roll)'),
    rolledFromId: z.string().nullable().describe('the key this one replaced (roll)'),
    workspace: workspaceBindingSchema,
  })
  .meta({ id: 'ApiKey' });

export const createdApiKeySchema = apiKeySchema
  .extend({
    key: z.string().describe('The full key. Shown in this response only, never again.'),
  })
  .meta({ id: 'CreatedApiKey' });

/** An instant: ISO 8601 date-time with an offset (`Z` included), or epoch milliseconds. */
const futureDate = z
  .union([z.iso.datetime({ offset: true }), z.number().int().min(0)])
  .transform((value) => new Date(value));

export const createApiKeyBodySchema = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(scopeSchema).min(1),
  expiresAt: futureDate
    .nullable()
    .optional()
    .describe('ISO 8601 date-time, or epoch ms; in the future'),
  workspace: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .nullable()
    .optional()
    .describe(
      'Bind the key to one workspace: `personal`, or an organisation (`_id` or external `id`) you are a member of',
    ),
});

export const revokeApiKeyBodySchema = z
  .object({ reason: z.string().trim().max(500).nullable().optional() })
  .nullable()
  .optional();

export const rollApiKeyBodySchema = z
  .object({
    oldKeyExpiresAt: futureDate
      .nullable()
      .optional()
      .describe('Until when the old key keeps working (default: now; at most 7 days ahead)'),
  })
  .nullable()
  .optional();

export const apiKeyIdParamsSchema = z.object({ id: z.uuid() });

export const meSchema = z
  .object({
    user: z.object({
      _id: z.string(),
      clerkUserId: z.string(),
      email: z.string().nullable(),
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      imageUrl: z.string().nullable(),
    }),
    key: z.object({
      id: z.string(),
      name: z.string(),
      scopes: z.array(scopeSchema),
      expiresAt: z.number().int().nullable().describe('epoch ms; null: never expires'),
      workspace: workspaceBindingSchema,
    }),
    organisations: z.array(
      z.object({
        _id: z.string(),
        id: z.string().describe('external (Clerk) organisation id'),
        name: z.string(),
        role: z.string(),
      }),
    ),
  })
  .meta({ id: 'Me' });
