import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import {
  type NewSecurityEventRow,
  type SecurityEventRow,
  securityEvents,
} from './security-log.table.ts';

export async function insertSecurityEvents(
  db: Executor,
  rows: readonly NewSecurityEventRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.insert(securityEvents).values([...rows]);
}

export interface SecurityLogQuery {
  userId: string;
  /** Organisations whose entries the reader may see (those they administer). */
  organisationIds: readonly string[];
  actions?: readonly string[];
  targetType?: string;
  targetId?: string;
  /** Entries strictly older than this position (newest first). */
  before?: { at: number; id: string };
  limit: number;
}

/** Newest first, ties by id; keyset pagination on (at, id). */
export async function listSecurityEvents(
  db: Executor,
  q: SecurityLogQuery,
): Promise<SecurityEventRow[]> {
  const visible: SQL[] = [eq(securityEvents.userId, q.userId)];
  if (q.organisationIds.length > 0) {
    visible.push(inArray(securityEvents.organisationId, [...q.organisationIds]));
  }
  const conditions: Array<SQL | undefined> = [or(...visible)];
  if (q.actions && q.actions.length > 0) {
    conditions.push(inArray(securityEvents.action, [...q.actions]));
  }
  if (q.targetType) conditions.push(eq(securityEvents.targetType, q.targetType));
  if (q.targetId) conditions.push(eq(securityEvents.targetId, q.targetId));
  if (q.before) {
    conditions.push(
      or(
        lt(securityEvents.at, q.before.at),
        and(eq(securityEvents.at, q.before.at), lt(securityEvents.id, q.before.id)),
      ),
    );
  }
  return db
    .select()
    .from(securityEvents)
    .where(and(...conditions))
    .orderBy(desc(securityEvents.at), desc(securityEvents.id))
    .limit(q.limit);
}

/** Deletes entries older than the retention window; returns how many. */
export async function pruneSecurityEvents(db: Executor, olderThan: number): Promise<number> {
  const rows = await db
    .delete(securityEvents)
    .where(lt(securityEvents.at, olderThan))
    .returning({ id: securityEvents.id });
  return rows.length;
}
