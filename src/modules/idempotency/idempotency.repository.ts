import { and, eq, lt, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { type IdempotencyKeyRow, idempotencyKeys } from './idempotency.table.ts';

/** Claims a key for a new request; false when a live record already holds it. */
export async function claimKey(
  db: Executor,
  input: {
    apiKeyId: string;
    key: string;
    requestHash: string;
    now: number;
    expiresAt: number;
    staleBefore: number;
  },
): Promise<boolean> {
  const inserted = await db
    .insert(idempotencyKeys)
    .values({
      apiKeyId: input.apiKeyId,
      key: input.key,
      requestHash: input.requestHash,
      state: 'in_flight',
      createdAt: input.now,
      expiresAt: input.expiresAt,
    })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) return true;
  // An expired record, or an in-flight one abandoned by a crashed request, may be reclaimed.
  const reclaimed = await db
    .update(idempotencyKeys)
    .set({
      requestHash: input.requestHash,
      state: 'in_flight',
      responseStatus: null,
      responseBody: null,
      responseType: null,
      createdAt: input.now,
      expiresAt: input.expiresAt,
    })
    .where(
      and(
        eq(idempotencyKeys.apiKeyId, input.apiKeyId),
        eq(idempotencyKeys.key, input.key),
        or(
          lt(idempotencyKeys.expiresAt, input.now),
          and(
            eq(idempotencyKeys.state, 'in_flight'),
            lt(idempotencyKeys.createdAt, input.staleBefore),
          ),
        ),
      ),
    )
    .returning({ key: idempotencyKeys.key });
  return reclaimed.length > 0;
}

export async function findKey(
  db: Executor,
  input: { apiKeyId: string; key: string },
): Promise<IdempotencyKeyRow | undefined> {
  const rows = await db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.apiKeyId, input.apiKeyId), eq(idempotencyKeys.key, input.key)))
    .limit(1);
  return rows[0];
}

export async function completeKey(
  db: Executor,
  input: { apiKeyId: string; key: string; status: number; body: string; type: string | null },
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({
      state: 'completed',
      responseStatus: input.status,
      responseBody: input.body,
      responseType: input.type,
    })
    .where(and(eq(idempotencyKeys.apiKeyId, input.apiKeyId), eq(idempotencyKeys.key, input.key)));
}

export async function releaseKey(
  db: Executor,
  input: { apiKeyId: string; key: string },
): Promise<void> {
  await db
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.apiKeyId, input.apiKeyId), eq(idempotencyKeys.key, input.key)));
}

export async function deleteExpiredKeys(db: Executor, now: number): Promise<number> {
  const rows = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, now))
    .returning({ one: sql<number>`1` });
  return rows.length;
}
