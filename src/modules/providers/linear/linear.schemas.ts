import { z } from 'zod';
import { epochMs } from '../../integrations/integrations.schemas.ts';
import { linearWebhookStatuses } from './linear.table.ts';
import { linkSyncModes } from './linear-two-way.ts';

export const linearWebhookStatusSchema = z
  .object({
    teamId: z.string(),
    teamName: z.string().nullable(),
    status: z.enum(linearWebhookStatuses),
    healthy: z.boolean().describe('registered at Linear and no error since'),
    needs: z.array(z.string()).describe('what needs it: `container:<id>`, `automation:<id>`'),
    lastError: z.string().nullable(),
    lastErrorAt: epochMs.nullable(),
  })
  .meta({ id: 'LinearWebhookStatus' });

/** Linear's fields of the connection view. */
export const linearConnectionFields = {
  shape: { webhooks: z.array(linearWebhookStatusSchema).describe('Linear only; [] for Notion') },
  empty: { webhooks: [] },
};

export const linearTeamSchema = z
  .object({ id: z.string(), name: z.string(), key: z.string() })
  .meta({ id: 'LinearTeam' });

export const linearTeamLinkSchema = z
  .object({
    containerId: z.string(),
    teamId: z.string(),
    teamName: z.string().nullable(),
    sync: z
      .enum(linkSyncModes)
      .describe(
        '`two_way`: task changes made in MONOid are pushed to the Linear issue; `from_provider`: Linear is the source of truth',
      ),
    syncReason: z
      .string()
      .nullable()
      .describe('why the link is `from_provider` when two-way was not possible'),
    createdAt: epochMs,
  })
  .meta({ id: 'LinearTeamLink' });

export const linearTeamLinkResultSchema = linearTeamLinkSchema
  .extend({ webhook: linearWebhookStatusSchema })
  .meta({ id: 'LinearTeamLinkResult' });

export const reconcileReportSchema = z
  .object({
    connectionId: z.string(),
    created: z.number().int(),
    deleted: z.number().int(),
    orphansDeleted: z.number().int(),
    error: z.string().nullable(),
  })
  .meta({ id: 'LinearReconcileReport' });

export const linearLinkBody = z.object({
  teamId: z.string().min(1).max(100),
  sync: z
    .enum(linkSyncModes)
    .optional()
    .describe('default: `two_way` when the connection can write to Linear, else `from_provider`'),
});
