import { tagRoutes } from '../tags/tags.routes.ts';
import { categorySchemas } from './categories.schemas.ts';
import { categoryService } from './categories.service.ts';

/** Options: `holders`, the modules whose items reference categories (wired in `planning/`). */
export const categoryRoutes = tagRoutes({
  singular: 'category',
  plural: 'categories',
  schemas: categorySchemas,
  service: categoryService,
  deleteNote: 'Items that used the category keep existing with `categoryId: null`.',
});
