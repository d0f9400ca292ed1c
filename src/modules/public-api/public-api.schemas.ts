import { z } from 'zod';

/** Shared pieces of every /api/v1 schema (contract §2). */

export const idParamsSchema = z.object({
  id: z.string().min(1).max(200).meta({ description: 'The item `_id`.' }),
});

export const listQueryShape = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(500)
    .default(100)
    .meta({ description: 'Page size (default 100, max 500).' }),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .meta({ description: 'Items to skip. Order: updatedAt descending, ties by _id.' }),
};

function isRealDate(value: string): boolean {
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

export const dateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isRealDate, 'must be a real calendar date')
  .meta({ description: 'Calendar date YYYY-MM-DD', example: '2026-11-27' });

export const timeOfDaySchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:mm')
  .meta({ description: 'Time of day HH:mm', example: '09:00' });

export const epochMsSchema = z.number().int().min(0).meta({ description: 'Epoch milliseconds' });
export const epochMsQuery = z.coerce.number().int().min(0);

export const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/**
 * A comma-separated or repeated query parameter whose every value (one list) matches
 * `list`, the pattern documented in the OpenAPI document; split, trimmed, empties dropped.
 */
export function stringListQuery(list: z.ZodString) {
  return z.union([list, z.array(list)]).transform((v) =>
    (Array.isArray(v) ? v : [v])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
}

export const organisationIdInput = z.string().min(1).nullable().meta({
  description:
    'Organisation `_id` (or its external `id`); omitted, null or `personal` = the personal workspace.',
});

export const organisationIdFilter = z
  .string()
  .min(1)
  .meta({ description: 'Organisation `_id` or external `id`, or `personal`.' });

export const deletedSchema = z
  .object({ _id: z.string(), deleted: z.literal(true) })
  .meta({ id: 'Deleted' });

export const deletedResponse = z
  .object({ data: deletedSchema })
  .meta({ example: { data: { _id: '0f8fad5b-d9cb-469f-a165-70867728950e', deleted: true } } });

/** `{ data: item }` with an example (OpenAPI). */
export function itemEnvelope<T extends z.ZodType>(item: T, example: unknown) {
  return z.object({ data: item }).meta({ example: { data: example } });
}

/** `{ data: [items] }` with an example (OpenAPI). */
export function listEnvelope<T extends z.ZodType>(item: T, example: unknown) {
  return z.object({ data: z.array(item) }).meta({ example: { data: [example] } });
}
