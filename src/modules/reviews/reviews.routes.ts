import type { FastifyPluginAsync } from 'fastify';
import { registerCrudRoutes } from '../public-api/crud.routes.ts';
import {
  reviewCreateSchema,
  reviewListQuerySchema,
  reviewListResponse,
  reviewResponse,
  reviewUpdateSchema,
} from './reviews.schemas.ts';
import {
  createReview,
  deleteReview,
  getReview,
  listReviews,
  updateReview,
} from './reviews.service.ts';

export const reviewRoutes: FastifyPluginAsync = async (app) => {
  registerCrudRoutes(app, {
    singular: 'review',
    plural: 'reviews',
    listQuery: reviewListQuerySchema,
    createBody: reviewCreateSchema,
    updateBody: reviewUpdateSchema,
    itemResponse: reviewResponse,
    listResponse: reviewListResponse,
    updateErrors: [409],
    list: listReviews,
    create: createReview,
    get: getReview,
    update: updateReview,
    remove: deleteReview,
  });
};
