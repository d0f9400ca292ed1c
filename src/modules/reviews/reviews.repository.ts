import { and, asc, desc, eq, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { type ReviewRow, type ReviewType, reviews } from './reviews.table.ts';

export async function listReviewRows(
  db: Executor,
  f: {
    userId: string;
    date?: string | undefined;
    type?: ReviewType | undefined;
    limit: number;
    offset: number;
  },
): Promise<ReviewRow[]> {
  const where: SQL[] = [eq(reviews.userId, f.userId)];
  if (f.date) where.push(eq(reviews.date, f.date));
  if (f.type) where.push(eq(reviews.type, f.type));
  return db
    .select()
    .from(reviews)
    .where(and(...where))
    .orderBy(desc(reviews.updatedAt), asc(reviews.id))
    .limit(f.limit)
    .offset(f.offset);
}

export async function findReviewRow(
  db: Executor,
  input: { id: string; userId: string },
): Promise<ReviewRow | undefined> {
  const rows = await db
    .select()
    .from(reviews)
    .where(and(eq(reviews.id, input.id), eq(reviews.userId, input.userId)))
    .limit(1);
  return rows[0];
}

/** Inserts unless the user already has a review of that date and type (then undefined). */
export async function insertReview(
  db: Executor,
  values: typeof reviews.$inferInsert,
): Promise<ReviewRow | undefined> {
  const rows = await db.insert(reviews).values(values).onConflictDoNothing().returning();
  return rows[0];
}

export async function updateReviewRow(
  db: Executor,
  id: string,
  values: Partial<typeof reviews.$inferInsert>,
): Promise<ReviewRow | undefined> {
  const rows = await db.update(reviews).set(values).where(eq(reviews.id, id)).returning();
  return rows[0];
}

export async function deleteReviewRow(db: Executor, id: string): Promise<void> {
  await db.delete(reviews).where(eq(reviews.id, id));
}
