import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { inboxEvents } from './integrations.table.ts';

export interface InboxStats {
  byState: Record<'pending' | 'processing' | 'failed', number>;
  oldestPendingAgeSeconds: number;
}

/**
 * Inbox depth for /metrics. Processed rows are never counted (they accumulate); the open
 * states are served by the partial indexes the claim query uses.
 */
export async function readInboxStats(db: Executor): Promise<InboxStats> {
  const rows = await db
    .select({
      state: inboxEvents.state,
      count: sql<number>`count(*)::int`,
      oldest: sql<string | null>`min(${inboxEvents.receivedAt})::text`,
    })
    .from(inboxEvents)
    .where(sql`${inboxEvents.state} in ('pending', 'processing', 'failed')`)
    .groupBy(inboxEvents.state);
  const byState = { pending: 0, processing: 0, failed: 0 };
  let oldest: number | undefined;
  for (const row of rows) {
    if (row.state === 'pending' || row.state === 'processing' || row.state === 'failed')
      byState[row.state] = row.count;
    if ((row.state === 'pending' || row.state === 'processing') && row.oldest) {
      const at = Date.parse(row.oldest);
      if (!Number.isNaN(at)) oldest = oldest === undefined ? at : Math.min(oldest, at);
    }
  }
  return {
    byState,
    oldestPendingAgeSeconds: oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
  };
}
