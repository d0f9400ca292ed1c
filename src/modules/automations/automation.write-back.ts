import { z } from 'zod';
import type { FieldError } from '../../http/errors.ts';
import { taskBuckets } from '../tasks/tasks.table.ts';

/**
 * Write-back of a rule's items (two-way sync of a source whose items are documents, Notion):
 * which page property each MONOid field writes to. Pure: the shape, what saving checks beyond
 * it, and the property values a task gives.
 */
const property = z.string().trim().min(1).max(200).describe('The page property’s name');
const bucketEnum = z.enum(taskBuckets);

export const writeBackMappingSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      field: z.literal('bucket'),
      property,
      type: z.literal('checkbox'),
      values: z
        .partialRecord(bucketEnum, z.boolean())
        .describe('bucket → checked; a bucket not listed unchecks the box'),
    }),
    z.strictObject({
      field: z.literal('bucket'),
      property,
      type: z.enum(['status', 'select']),
      values: z
        .partialRecord(bucketEnum, z.string().trim().min(1).max(100))
        .describe('bucket → option name; a bucket not listed leaves the property as it is'),
    }),
    z.strictObject({
      field: z.enum(['doDate', 'dueDate']),
      property,
      type: z.literal('date'),
    }),
    z.strictObject({ field: z.literal('title'), property, type: z.literal('title') }),
  ])
  .meta({ id: 'AutomationWriteBack' });
export type WriteBackMapping = z.infer<typeof writeBackMappingSchema>;

export const ruleSyncModes = ['from_provider', 'two_way'] as const;
export type RuleSync = (typeof ruleSyncModes)[number];

export const ruleSyncFields = {
  sync: z
    .enum(ruleSyncModes)
    .optional()
    .describe(
      'two_way: changes in MONOid to the items this rule made are written back to the page (Notion), through writeBack',
    ),
  writeBack: z
    .array(writeBackMappingSchema)
    .max(20)
    .nullish()
    .describe('Which page property each MONOid field writes to (sync: two_way)'),
};

/** What saving checks beyond the shape: a source that writes back, one field per property. */
export function validateWriteBack(
  input: { sync: RuleSync; writeBack: readonly WriteBackMapping[] | null },
  sourceWritesBack: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  const mappings = input.writeBack ?? [];
  if ((input.sync === 'two_way' || mappings.length > 0) && !sourceWritesBack)
    errors.push({ path: 'sync', message: 'this source does not take write-back (Notion does)' });
  if (input.sync === 'two_way' && mappings.length === 0)
    errors.push({ path: 'writeBack', message: 'two_way needs at least one mapping' });
  const seen = new Set<string>();
  mappings.forEach((m, i) => {
    if (seen.has(m.property))
      errors.push({ path: `writeBack.${i}.property`, message: `"${m.property}" is mapped twice` });
    seen.add(m.property);
    if ('values' in m && Object.keys(m.values).length === 0)
      errors.push({ path: `writeBack.${i}.values`, message: 'map at least one bucket' });
  });
  return errors;
}

/** The task columns a mapping reads (the outbox's field names). */
export const columnOfField = {
  bucket: 'bucket',
  title: 'title',
  doDate: 'do_date',
  dueDate: 'due_date',
} as const;

export interface WriteBackTask {
  title: string;
  bucket: string;
  doDate: string | null;
  dueDate: string | null;
}

/**
 * The page properties (Notion's `pages.update` shape) that the task's current values give,
 * for the mappings whose field is among `changed` (task columns; all when undefined).
 */
export function pagePropertiesFor(
  mappings: readonly WriteBackMapping[],
  task: WriteBackTask,
  changed?: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of mappings) {
    if (changed && !changed.includes(columnOfField[m.field])) continue;
    if (m.type === 'checkbox')
      out[m.property] = { checkbox: m.values[task.bucket as keyof typeof m.values] ?? false };
    else if (m.type === 'status' || m.type === 'select') {
      const name = m.values[task.bucket as keyof typeof m.values];
      if (name) out[m.property] = { [m.type]: { name } };
    } else if (m.type === 'date') {
      const value = m.field === 'doDate' ? task.doDate : task.dueDate;
      out[m.property] = { date: value ? { start: value } : null };
    } else out[m.property] = { title: [{ type: 'text', text: { content: task.title } }] };
  }
  return out;
}
