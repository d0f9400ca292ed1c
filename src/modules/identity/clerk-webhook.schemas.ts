import { z } from 'zod';

/**
 * The parts of Clerk's webhook payloads we use (webhook-protocols.md §3). Unknown fields are
 * ignored; these schemas only run on verified bodies.
 */
export const clerkEventEnvelopeSchema = z.object({
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  /** Clerk's event time, epoch ms (absent in some older payloads). */
  timestamp: z.number().int().positive().optional(),
});

const optionalText = z.string().nullish();

export const clerkUserDataSchema = z.object({
  id: z.string().min(1),
  first_name: optionalText,
  last_name: optionalText,
  image_url: optionalText,
  primary_email_address_id: optionalText,
  email_addresses: z.array(z.object({ id: z.string(), email_address: z.string() })).nullish(),
});

export const clerkDeletedDataSchema = z.object({
  id: z.string().min(1).nullish(),
  deleted: z.boolean().optional(),
});

export const clerkOrganisationDataSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  slug: optionalText,
  image_url: optionalText,
});

export const clerkMembershipDataSchema = z.object({
  id: optionalText,
  role: z.string().min(1).nullish(),
  organization: z.object({
    id: z.string().min(1),
    name: optionalText,
    slug: optionalText,
    image_url: optionalText,
  }),
  public_user_data: z.object({
    user_id: z.string().min(1),
    identifier: optionalText,
    first_name: optionalText,
    last_name: optionalText,
    image_url: optionalText,
  }),
});

export type ClerkUserData = z.infer<typeof clerkUserDataSchema>;
export type ClerkOrganisationData = z.infer<typeof clerkOrganisationDataSchema>;
export type ClerkMembershipData = z.infer<typeof clerkMembershipDataSchema>;

export const clerkWebhookAckSchema = z
  .object({
    received: z.literal(true),
    /** True when this svix-id was already applied: acknowledged, no second effect. */
    duplicate: z.boolean(),
    /** True for event types this server does not use, or events older than what is stored. */
    ignored: z.boolean(),
  })
  .meta({ id: 'ClerkWebhookAck' });
