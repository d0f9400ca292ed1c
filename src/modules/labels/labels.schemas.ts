import { tagSchemas } from '../tags/tags.schemas.ts';
import { labelEntityTypes } from './labels.table.ts';

/** Any number of labels per project or task; projects show theirs expanded (`labels`). */
export const labelSchemas = tagSchemas({
  id: 'Label',
  description: 'Tags projects or tasks; filters lists.',
  entityTypes: labelEntityTypes,
  example: { name: 'Waiting on client', color: '#f59e0b', entityType: 'task' },
});
