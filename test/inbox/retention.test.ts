import { randomUUID } from 'node:crypto';
import { eq, inArray, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import {
  automationRuns,
  inboxEvents,
  linearBackfills,
  linearTeamLinks,
} from '../../src/db/schema.ts';
import { linearIssuePayload } from '../automations/fixtures.ts';
import { type Harness, startHarness } from '../automations/harness.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const empty = { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };

/** Time the app sees: moved by the test, never by waiting; pauses are recorded. */
function testClock(start: number) {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance(ms: number) {
      now += ms;
    },
    sleeps,
  };
}

describe('retention', () => {
  let h: Harness;
  const clock = testClock(Date.now());
  const db = () => h.t.app.database.db;
  const at = (ms: number) => new Date(ms);

  beforeAll(async () => {
    h = await startHarness({
      clock,
      env: { RETENTION_BATCH_SIZE: '2', RETENTION_PAUSE_MS: '250', METRICS_ENABLED: 'true' },
    });
    h.linear.handle('MonoidBackfillProjects', () => ({ team: { projects: empty } }));
    h.linear.handle('MonoidBackfillIssues', () => ({ issues: empty }));
  });
  afterAll(async () => h?.close());

  /** Stores and processes `n` Linear events; returns their inbox ids. */
  async function processedEvents(n: number): Promise<string[]> {
    const before = new Set(
      (await db().select({ id: inboxEvents.id }).from(inboxEvents)).map((r) => r.id),
    );
    for (let i = 0; i < n; i++) {
      const res = await h.deliverLinear(
        linearIssuePayload({ teamId: h.teamId, title: `Issue ${i}` }),
      );
      expect(res.statusCode).toBe(200);
    }
    await h.drain();
    const rows = await db()
      .select({ id: inboxEvents.id, state: inboxEvents.state })
      .from(inboxEvents);
    const fresh = rows.filter((r) => !before.has(r.id));
    expect(fresh.map((r) => r.state)).toEqual(Array(n).fill('processed'));
    return fresh.map((r) => r.id);
  }

  const setEvent = (id: string, values: Partial<typeof inboxEvents.$inferInsert>) =>
    db().update(inboxEvents).set(values).where(eq(inboxEvents.id, id));
  const runsOf = (ids: string[]) =>
    db().select().from(automationRuns).where(inArray(automationRuns.inboxEventId, ids));
  const remaining = async (ids: string[]) =>
    (
      await db()
        .select({ id: inboxEvents.id })
        .from(inboxEvents)
        .where(inArray(inboxEvents.id, ids))
    )
      .map((r) => r.id)
      .sort();

  it('deletes what is past its window and nothing else; a finished backfill is not started again', async () => {
    // The link's backfill runs to the end: the link is backfilled.
    expect(await h.t.app.providers.linear.backfill.runOnce()).toBe(true);
    const [backfill] = await db().select().from(linearBackfills);
    expect(backfill?.status).toBe('done');

    const now = clock.now();
    const ids = await processedEvents(9);
    const [
      oldProcessed1,
      oldProcessed2,
      oldProcessed3,
      recentProcessed,
      oldDead,
      recentDead,
      oldPending,
      oldRetrying,
      replayed,
    ] = ids as [string, string, string, string, string, string, string, string, string];
    // Processed: 30 days (+/- an hour).
    for (const id of [oldProcessed1, oldProcessed2, oldProcessed3])
      await setEvent(id, { processedAt: at(now - 30 * DAY - HOUR) });
    await setEvent(recentProcessed, { processedAt: at(now - 30 * DAY + HOUR) });
    // Dead-lettered: 90 days after the last attempt.
    await setEvent(oldDead, {
      state: 'failed',
      nextAttemptAt: at(now - 90 * DAY - HOUR),
      receivedAt: at(now - 91 * DAY),
    });
    await setEvent(recentDead, {
      state: 'failed',
      nextAttemptAt: at(now - 90 * DAY + HOUR),
      receivedAt: at(now - 200 * DAY),
    });
    // Pending (waiting for a reconnect, or a replayed dead letter): never, whatever its age.
    await setEvent(oldPending, {
      state: 'pending',
      processedAt: null,
      receivedAt: at(now - 400 * DAY),
      nextAttemptAt: at(now + DAY),
    });
    await setEvent(oldRetrying, {
      state: 'pending',
      processedAt: null,
      receivedAt: at(now - 400 * DAY),
      nextAttemptAt: at(now + DAY),
    });
    await setEvent(replayed, {
      state: 'pending',
      processedAt: at(now - 365 * DAY),
      nextAttemptAt: at(now + DAY),
    });

    // Runs: 30 days after their last write, only once their event is finished.
    const runs = await runsOf(ids);
    expect(runs.length).toBeGreaterThanOrEqual(ids.length);
    await db()
      .update(automationRuns)
      .set({ updatedAt: at(now - 30 * DAY + HOUR) })
      .where(inArray(automationRuns.inboxEventId, ids));
    await db()
      .update(automationRuns)
      .set({ updatedAt: at(now - 30 * DAY - HOUR) })
      .where(inArray(automationRuns.inboxEventId, [recentDead, oldRetrying]));
    const [recentRun] = await runsOf([recentProcessed]);
    const [extraOld] = await db()
      .insert(automationRuns)
      .values({
        inboxEventId: recentProcessed,
        targetKey: 'automation:old',
        kind: 'rule',
        status: 'not_matched',
        updatedAt: at(now - 30 * DAY - HOUR),
      })
      .returning();
    // Outgoing pushes (two-way sync) have no event: 30 days after their last write.
    const pushRun = (updatedAt: Date) =>
      db()
        .insert(automationRuns)
        .values({
          inboxEventId: null,
          targetKey: `linear:push:${randomUUID()}`,
          kind: 'sync',
          direction: 'outgoing',
          status: 'succeeded',
          updatedAt,
        })
        .returning();
    await pushRun(at(now - 30 * DAY - HOUR));
    const [recentPush] = await pushRun(at(now - 30 * DAY + HOUR));

    // Backfills: finished ones 30 days after they finished.
    await db()
      .update(linearBackfills)
      .set({ finishedAt: at(now - 30 * DAY - HOUR) });

    const deleted = await h.t.app.retention.runOnce();
    expect(deleted).toEqual({ automation_runs: 3, inbox_events: 4, linear_backfills: 1 });
    // Batches of 2 with a pause after each full one: the pauses went through the clock.
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(2);
    expect(clock.sleeps.every((ms) => ms === 250)).toBe(true);

    expect(await remaining(ids)).toEqual(
      [recentProcessed, recentDead, oldPending, oldRetrying, replayed].sort(),
    );
    const kept = await runsOf(ids);
    const keptIds = new Set(kept.map((r) => r.id));
    expect(keptIds.has(extraOld?.id ?? '')).toBe(false); // old run of a finished event
    expect(keptIds.has(recentRun?.id ?? '')).toBe(true); // recent run
    expect(kept.some((r) => r.inboxEventId === oldRetrying)).toBe(true); // event not finished
    expect(kept.some((r) => r.inboxEventId === recentDead)).toBe(false); // old run, dead letter kept
    expect(kept.some((r) => r.inboxEventId === oldProcessed1)).toBe(false); // went with its event
    const pushes = await db()
      .select({ id: automationRuns.id })
      .from(automationRuns)
      .where(isNull(automationRuns.inboxEventId));
    expect(pushes.map((r) => r.id)).toEqual([recentPush?.id]);

    // The backfill row is gone, and the runner does not start the link's backfill again.
    expect(await db().select().from(linearBackfills)).toEqual([]);
    const [link] = await db().select().from(linearTeamLinks);
    expect(link?.backfilledAt).toBeInstanceOf(Date);
    expect(await h.t.app.providers.linear.backfill.runOnce()).toBe(false);
    expect(await db().select().from(linearBackfills)).toEqual([]);
    // A link never backfilled still gets one (what decides is backfilled_at).
    await db().update(linearTeamLinks).set({ backfilledAt: null });
    expect(await h.t.app.providers.linear.backfill.runOnce()).toBe(true);
    expect((await db().select().from(linearBackfills)).map((b) => b.status)).toEqual(['done']);
  });

  it('runs at most once per interval across instances, one runner at a time', async () => {
    // Just ran: not due until the interval has passed.
    expect(await h.t.app.retention.runOnce()).toBeNull();
    clock.advance(h.t.config.RETENTION_INTERVAL_MS);
    // Another instance holds a live lease: this one does not run.
    await db().execute(
      sql`update job_leases set locked_by = 'other-instance', locked_until = ${new Date(clock.now() + 60_000).toISOString()}::timestamptz`,
    );
    expect(await h.t.app.retention.runOnce()).toBeNull();
    // Its lease expired (it died): this one takes over. The windows moved with the clock:
    // the rows an hour inside them are now past them.
    clock.advance(60_001);
    expect(await h.t.app.retention.runOnce()).toEqual({
      automation_runs: 2, // the recent event's run and the recent push
      inbox_events: 2,
      linear_backfills: 0,
    });
  });

  it('/metrics shows rows and bytes per table, and what retention deleted', async () => {
    await db().execute(sql`analyze inbox_events`);
    const res = await h.t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const count = (await db().select({ n: sql<number>`count(*)::int` }).from(inboxEvents))[0]?.n;
    expect(res.body).toContain(`monoid_table_rows_estimate{table="inbox_events"} ${count}`);
    const bytes = /monoid_table_size_bytes\{table="inbox_events"\} (\d+)/.exec(res.body);
    expect(Number(bytes?.[1])).toBeGreaterThan(8192);
    expect(res.body).toMatch(/monoid_table_size_bytes\{table="automation_runs"\} \d+/);
    expect(res.body).toContain('monoid_retention_deleted_rows_total{table="inbox_events"} 6');
  });

  it('refuses windows that would break deduplication or cut runs short', () => {
    const env = { NODE_ENV: 'test', DATA_DIR: 'memory' };
    expect(() => loadConfig({ ...env, INBOX_RETENTION_PROCESSED_DAYS: '1' })).toThrow(
      /INBOX_RETENTION_PROCESSED_DAYS.*NOTION_EVENT_MAX_AGE_HOURS/,
    );
    expect(() => loadConfig({ ...env, AUTOMATION_RUN_RETENTION_DAYS: '31' })).toThrow(
      /AUTOMATION_RUN_RETENTION_DAYS/,
    );
    expect(
      loadConfig({
        ...env,
        INBOX_RETENTION_PROCESSED_DAYS: '2',
        AUTOMATION_RUN_RETENTION_DAYS: '2',
      }).INBOX_RETENTION_PROCESSED_DAYS,
    ).toBe(2);
  });
});
