import type { Executor } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import {
  type Actor,
  isUniqueViolation,
  nowMs,
  pathId,
  personalOwner,
} from '../workspaces/workspace.service.ts';
import {
  deleteReviewRow,
  findReviewRow,
  insertReview,
  listReviewRows,
  updateReviewRow,
} from './reviews.repository.ts';
import type { Review, ReviewCreate, ReviewListQuery, ReviewUpdate } from './reviews.schemas.ts';
import type { ReviewRow } from './reviews.table.ts';

const duplicate = () => conflict('A review of this type already exists for this date.');

function present(r: ReviewRow): Review {
  return {
    _id: r.id,
    userId: r.userId,
    date: r.date,
    type: r.type,
    wakeTime: r.wakeTime,
    sleepTime: r.sleepTime,
    updatedAt: r.updatedAt,
  };
}

/** Reviews are the caller's own (personal, never shared with an organisation). */
export async function listReviews(
  db: Executor,
  actor: Actor,
  query: ReviewListQuery,
): Promise<Review[]> {
  const rows = await listReviewRows(db, { userId: personalOwner(actor, 'read'), ...query });
  return rows.map(present);
}

export async function getReview(db: Executor, actor: Actor, id: string): Promise<Review> {
  const row = await findReviewRow(db, {
    id: pathId(id, 'Review'),
    userId: personalOwner(actor, 'read'),
  });
  if (!row) throw notFound('Review');
  return present(row);
}

export async function createReview(
  db: Executor,
  actor: Actor,
  input: ReviewCreate,
): Promise<Review> {
  const now = nowMs();
  const row = await insertReview(db, {
    userId: personalOwner(actor, 'write'),
    date: input.date,
    type: input.type,
    wakeTime: input.wakeTime ?? null,
    sleepTime: input.sleepTime ?? null,
    createdAt: now,
    updatedAt: now,
  });
  if (!row) throw duplicate();
  return present(row);
}

export async function updateReview(
  db: Executor,
  actor: Actor,
  id: string,
  patch: ReviewUpdate,
): Promise<Review> {
  const reviewId = pathId(id, 'Review');
  const existing = await findReviewRow(db, { id: reviewId, userId: personalOwner(actor, 'read') });
  if (!existing) throw notFound('Review');
  try {
    const row = await updateReviewRow(db, reviewId, {
      ...(patch.date !== undefined ? { date: patch.date } : {}),
      ...(patch.type !== undefined ? { type: patch.type } : {}),
      ...(patch.wakeTime !== undefined ? { wakeTime: patch.wakeTime } : {}),
      ...(patch.sleepTime !== undefined ? { sleepTime: patch.sleepTime } : {}),
      updatedAt: nowMs(),
    });
    if (!row) throw notFound('Review');
    return present(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
}

export async function deleteReview(db: Executor, actor: Actor, id: string): Promise<void> {
  const reviewId = pathId(id, 'Review');
  const existing = await findReviewRow(db, { id: reviewId, userId: personalOwner(actor, 'read') });
  if (!existing) throw notFound('Review');
  await deleteReviewRow(db, reviewId);
}
