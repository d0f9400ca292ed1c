import { z } from 'zod';
import { actionSchema } from './actions/registry.ts';
import { triggerSchema } from './automation.definition.ts';
import { ruleSyncFields, ruleSyncModes, writeBackMappingSchema } from './automation.write-back.ts';
import { runDirections, runStatuses } from './automations.table.ts';

/** Shapes of `/api/settings/automations` (Clerk session; admins in organisations). */
const epochMs = z.number().int().meta({ description: 'Epoch milliseconds' });

export const automationSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    enabled: z.boolean(),
    trigger: triggerSchema,
    conditions: z.unknown().nullable().describe('JSON Logic over the normalized event'),
    actions: z.array(actionSchema),
    sync: z.enum(ruleSyncModes),
    writeBack: z.array(writeBackMappingSchema).nullable(),
    organisationId: z.uuid().nullable(),
    createdAt: epochMs,
    updatedAt: epochMs,
  })
  .meta({ id: 'Automation' });
export type AutomationDto = z.infer<typeof automationSchema>;

export const automationCreateSchema = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).nullish(),
  enabled: z.boolean().default(true),
  trigger: triggerSchema,
  conditions: z.unknown().optional(),
  actions: z.array(actionSchema).min(1).max(10),
  ...ruleSyncFields,
});
export type AutomationCreate = z.infer<typeof automationCreateSchema>;

export const automationUpdateSchema = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).nullish(),
  enabled: z.boolean().optional(),
  trigger: triggerSchema.optional(),
  conditions: z.unknown().optional(),
  actions: z.array(actionSchema).min(1).max(10).optional(),
  ...ruleSyncFields,
});
export type AutomationUpdate = z.infer<typeof automationUpdateSchema>;

export const idParams = z.object({ id: z.uuid() });
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const effectSchema = z
  .object({
    action: z.string(),
    itemType: z.enum(['task', 'project', 'container']),
    itemId: z.string().nullable(),
    change: z.string().describe('created, updated, cancelled, exists, not_found, would_*'),
    detail: z.string().optional(),
  })
  .meta({ id: 'AutomationEffect' });

export const runSchema = z
  .object({
    id: z.uuid(),
    inboxEventId: z.uuid().nullable().describe('null for an outgoing push'),
    kind: z.enum(['rule', 'sync']),
    direction: z
      .enum(runDirections)
      .describe('incoming: a provider event evaluated; outgoing: a two-way sync push'),
    automationId: z.uuid().nullable(),
    containerId: z.uuid().nullable(),
    status: z.enum(runStatuses),
    matched: z.boolean(),
    stage: z.string().nullable().describe('Where evaluation stopped when it did not match'),
    reason: z.string().nullable(),
    failedCondition: z.unknown().nullable(),
    effects: z.array(effectSchema),
    warnings: z.array(z.string()),
    error: z.string().nullable(),
    attempts: z.number().int(),
    createdAt: epochMs,
    updatedAt: epochMs,
  })
  .meta({ id: 'AutomationRun' });

export const runListQuery = pageQuery.extend({
  automationId: z.uuid().optional(),
  inboxEventId: z.uuid().optional(),
  status: z.enum(runStatuses).optional(),
});

export const inboxEventSchema = z
  .object({
    id: z.uuid(),
    provider: z.string().describe('A provider id'),
    eventType: z.string(),
    entityType: z.string().nullable(),
    entityId: z.string().nullable(),
    state: z.enum(['pending', 'processing', 'processed', 'failed']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    receivedAt: epochMs,
    processedAt: epochMs.nullable(),
  })
  .meta({ id: 'AutomationInboxEvent' });

export const inboxListQuery = pageQuery.extend({
  state: z.enum(['pending', 'processing', 'processed', 'failed']).optional(),
});

export const replayBodySchema = z
  .object({
    eventIds: z.array(z.uuid()).max(500).optional(),
    deadLettered: z.boolean().optional().describe('Replay every dead-lettered event'),
  })
  .refine((b) => (b.eventIds?.length ?? 0) > 0 || b.deadLettered === true, {
    message: 'give eventIds or deadLettered: true',
  });

export const dryRunBodySchema = z
  .object({
    inboxEventId: z.uuid().optional().describe('A stored event of this workspace'),
    payload: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('A sample provider payload (Linear webhook body or Notion event)'),
    page: z
      .record(z.string(), z.unknown())
      .nullish()
      .describe('Notion: the page as pages.retrieve returns it (else it is read)'),
  })
  .refine((b) => (b.inboxEventId === undefined) !== (b.payload === undefined), {
    message: 'give exactly one of inboxEventId and payload',
  });

export const adHocDryRunBodySchema = z.object({
  definition: z.object({
    trigger: triggerSchema,
    conditions: z.unknown().optional(),
    actions: z.array(actionSchema).min(1).max(10),
    ...ruleSyncFields,
  }),
  inboxEventId: z.uuid().optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
  page: z.record(z.string(), z.unknown()).nullish(),
});

export const dryRunResultSchema = z
  .object({
    matched: z.boolean(),
    stage: z.string().nullable(),
    reason: z.string().nullable(),
    failedCondition: z.unknown().nullable(),
    warnings: z.array(z.string()),
    actions: z.array(z.unknown()).describe('The planned actions with fields filled in'),
    effects: z.array(effectSchema).describe('What applying them would create or change'),
    pushes: z
      .array(
        z.object({
          provider: z.string(),
          externalId: z.string(),
          itemId: z.uuid(),
          properties: z
            .record(z.string(), z.unknown())
            .describe('The page properties a change of the item writes (pages.update)'),
        }),
      )
      .describe('Write-back of a two_way rule: what its items would send to the page'),
    event: z.unknown().nullable().describe('The normalized event conditions were evaluated on'),
  })
  .meta({ id: 'AutomationDryRun' });

export const backfillSchema = z
  .object({
    id: z.uuid(),
    containerId: z.uuid(),
    teamId: z.string(),
    status: z.enum(['pending', 'running', 'done', 'failed']),
    phase: z.enum(['projects', 'issues']),
    pages: z.number().int(),
    items: z.number().int(),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    startedAt: epochMs.nullable(),
    finishedAt: epochMs.nullable(),
    updatedAt: epochMs,
  })
  .meta({ id: 'LinearBackfill' });
