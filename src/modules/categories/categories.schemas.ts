import { tagSchemas } from '../tags/tags.schemas.ts';
import { categoryEntityTypes } from './categories.table.ts';

/** One category per item at most; projects show theirs expanded (`category`). */
export const categorySchemas = tagSchemas({
  id: 'Category',
  description: 'Colours and filters items of one entity type.',
  entityTypes: categoryEntityTypes,
  example: { name: 'Deep work', color: '#4f46e5', entityType: 'task' },
});
