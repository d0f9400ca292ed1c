import type { CategoryEntityType } from '../categories/categories.table.ts';
import type { LabelEntityType } from '../labels/labels.table.ts';
import type { ProjectFollowers } from '../projects/projects.service.ts';
import { tagArrayHolder, tagColumnHolder } from '../tags/tags.service.ts';
import { moveProjectTasks } from './tasks.repository.ts';
import { tasks } from './tasks.table.ts';

/** Tasks reference categories of type `task`; deleting one clears it (foreign key). */
export const taskCategoryHolder = tagColumnHolder<CategoryEntityType>(tasks.categoryId, ['task']);

/** Tasks carry labels of type `task` in `labelIds`; deleting one takes it off. */
export const taskLabelHolder = tagArrayHolder<LabelEntityType>(tasks.labelIds, ['task']);

/** A project's tasks follow it into another container. */
export const tasksFollowProjects: ProjectFollowers = { containerChanged: moveProjectTasks };
