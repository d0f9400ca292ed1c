import type { CategoryEntityType } from '../categories/categories.table.ts';
import type { LabelEntityType } from '../labels/labels.table.ts';
import { tagArrayHolder, tagColumnHolder } from '../tags/tags.service.ts';
import { projects } from './projects.table.ts';

/** Projects reference categories of type `project`; deleting one clears it (foreign key). */
export const projectCategoryHolder = tagColumnHolder<CategoryEntityType>(projects.categoryId, [
  'project',
]);

/** Projects carry labels of type `project` in `labelIds`; deleting one takes it off. */
export const projectLabelHolder = tagArrayHolder<LabelEntityType>(projects.labelIds, ['project']);
