import type { FastifyPluginAsync } from 'fastify';
import { categoryRoutes } from '../categories/categories.routes.ts';
import { containerRoutes } from '../containers/containers.routes.ts';
import { dailyNoteRoutes } from '../daily-notes/daily-notes.routes.ts';
import { registerIdempotency } from '../idempotency/idempotency.hooks.ts';
import { labelRoutes } from '../labels/labels.routes.ts';
import { organisationRoutes } from '../organisations/organisations.routes.ts';
import { projectCategoryHolder, projectLabelHolder } from '../projects/projects.references.ts';
import { projectRoutes } from '../projects/projects.routes.ts';
import { reviewRoutes } from '../reviews/reviews.routes.ts';
import { routineBlockCategoryHolder } from '../routine-blocks/routine-blocks.references.ts';
import { routineBlockRoutes } from '../routine-blocks/routine-blocks.routes.ts';
import {
  taskCategoryHolder,
  taskLabelHolder,
  tasksFollowProjects,
} from '../tasks/tasks.references.ts';
import { taskRoutes } from '../tasks/tasks.routes.ts';

/**
 * The nine resources of the public REST API (contract §3). Register inside the /api/v1 scope,
 * after its API-key auth hook: `await v1.register(planningRoutes)`. `Idempotency-Key` applies
 * to every POST in here. The modules that reference other modules' items (projects, tasks,
 * routine blocks) are handed to the referenced ones here, so that imports point one way.
 */
export const planningRoutes: FastifyPluginAsync = async (app) => {
  registerIdempotency(app, { ttlHours: app.config.IDEMPOTENCY_KEY_TTL_HOURS });
  await app.register(organisationRoutes, { prefix: '/organisations' });
  await app.register(containerRoutes, { prefix: '/containers' });
  await app.register(projectRoutes, { prefix: '/projects', followers: tasksFollowProjects });
  await app.register(taskRoutes, { prefix: '/tasks' });
  await app.register(categoryRoutes, {
    prefix: '/categories',
    holders: [projectCategoryHolder, taskCategoryHolder, routineBlockCategoryHolder],
  });
  await app.register(labelRoutes, {
    prefix: '/labels',
    holders: [projectLabelHolder, taskLabelHolder],
  });
  await app.register(routineBlockRoutes, { prefix: '/routine_blocks' });
  await app.register(reviewRoutes, { prefix: '/reviews' });
  await app.register(dailyNoteRoutes, { prefix: '/daily_notes' });
};
