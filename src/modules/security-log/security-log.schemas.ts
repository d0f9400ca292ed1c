import { z } from 'zod';
import { securityActions, securityCauses } from './security-log.ts';

export const securityEventSchema = z
  .object({
    id: z.string(),
    time: z.number().int().describe('epoch ms'),
    actor: z.object({
      type: z.enum(['user', 'system']),
      userId: z.string().nullable().describe('who acted (type user)'),
      cause: z.enum(securityCauses).nullable().describe('why the system acted (type system)'),
    }),
    action: z.enum(securityActions),
    target: z.object({
      type: z.enum(['api_key', 'connection', 'automation', 'delivery']),
      id: z.string(),
    }),
    userId: z.string().nullable().describe("whose log: the key's owner, the member who acted"),
    organisationId: z
      .string()
      .nullable()
      .describe("also in this organisation's log (its admins read it)"),
    address: z.string().nullable().describe('client address of the request, when there was one'),
    userAgent: z.string().nullable(),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  })
  .meta({ id: 'SecurityEvent' });

export const securityLogQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(200)
    .optional()
    .describe('`nextCursor` of the previous page; omitted: the newest entries'),
  action: z
    .union([z.enum(securityActions), z.array(z.enum(securityActions))])
    .optional()
    .describe('one or more actions (repeat the parameter)'),
  targetType: z.enum(['api_key', 'connection', 'automation', 'delivery']).optional(),
  targetId: z.string().max(200).optional(),
});

export const securityLogPageSchema = z
  .object({
    data: z.array(securityEventSchema),
    nextCursor: z
      .string()
      .nullable()
      .describe('pass as `cursor` for older entries; null: last page'),
  })
  .meta({ id: 'SecurityLogPage' });
