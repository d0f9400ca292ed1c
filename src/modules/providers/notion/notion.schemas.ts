import { z } from 'zod';
import { epochMs } from '../../integrations/integrations.schemas.ts';

export const notionSubscriptionSchema = z
  .object({
    webhookUrl: z
      .string()
      .nullable()
      .describe(
        'URL to paste in the Notion integration’s Webhooks tab (null without PUBLIC_BASE_URL)',
      ),
    verified: z.boolean(),
    verifiedAt: epochMs.nullable(),
    handshakeReceivedAt: epochMs
      .nullable()
      .describe('when the confirmed handshake arrived (admins only)'),
    handshakeFrom: z
      .string()
      .nullable()
      .describe('the address the confirmed handshake came from (admins only)'),
    pendingVerification: z
      .boolean()
      .describe('a handshake token is waiting: read it from GET .../notion/verification'),
    pendingReceivedAt: epochMs.nullable(),
  })
  .meta({ id: 'NotionSubscription' });

/** Notion's fields of the connection view. */
export const notionConnectionFields = {
  shape: { notion: notionSubscriptionSchema.nullable().describe('Notion only') },
  empty: { notion: null },
};

export const notionVerificationSchema = z
  .object({
    webhookUrl: z.string().nullable(),
    verified: z.boolean(),
    verifiedAt: epochMs.nullable(),
    pendingToken: z
      .string()
      .nullable()
      .describe('the handshake token to paste in Notion’s Verify dialog, then confirm here'),
    pendingReceivedAt: epochMs.nullable(),
    pendingFrom: z.string().nullable().describe('the address the pending token came from'),
  })
  .meta({ id: 'NotionVerification' });
