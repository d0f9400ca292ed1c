import { tagRoutes } from '../tags/tags.routes.ts';
import { labelSchemas } from './labels.schemas.ts';
import { labelService } from './labels.service.ts';

/** Options: `holders`, the modules whose items carry labels (wired in `planning/`). */
export const labelRoutes = tagRoutes({
  singular: 'label',
  plural: 'labels',
  schemas: labelSchemas,
  service: labelService,
  deleteNote: 'The label is removed from the `labelIds` of every item.',
});
