import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automationRuns, externalLinks, inboxEvents, tasks } from '../../src/db/schema.ts';
import { InboxWorker } from '../../src/modules/inbox/inbox.worker.ts';
import { linearIssuePayload } from './fixtures.ts';
import { engineOf, type Harness, startHarness, workerOptions } from './harness.ts';

/**
 * Batched processing gives the end state of one-at-a-time processing: random interleavings
 * of creates, updates, stale updates, removals and permanent failures, for the same and
 * different issues, are delivered twice (fresh issue ids each time) and drained once by a
 * worker taking one event per batch and once by a worker taking random batch sizes; both
 * end states must equal a reference model of the documented rules (in delivery order: an
 * older version than the stored one is skipped, a removal cancels, one task per issue, a
 * failed event applies nothing).
 */
type Kind = 'create' | 'update' | 'remove';
interface Step {
  entity: number;
  kind: Kind;
  /** Provider version, in seconds after a base (collisions on purpose: equal is not stale). */
  version: number;
  title: string;
  state: 'unstarted' | 'started' | 'completed';
}

const POISON = 'POISON';
const bucketOf = { unstarted: 'todo', started: 'in_progress', completed: 'done' } as const;

interface ModelEntity {
  version: number;
  task: { title: string; bucket: string } | undefined;
}
type RunStatus = 'succeeded' | 'skipped' | 'dead';

function model(steps: readonly Step[]) {
  const entities = new Map<number, ModelEntity>();
  const runs: RunStatus[] = [];
  for (const s of steps) {
    if (s.kind !== 'remove' && s.title === POISON) {
      runs.push('dead');
      continue;
    }
    const current = entities.get(s.entity);
    if (current && s.version < current.version) {
      runs.push('skipped');
      continue;
    }
    const version = Math.max(current?.version ?? s.version, s.version);
    if (s.kind === 'remove') {
      const task = current?.task ? { ...current.task, bucket: 'cancelled' } : undefined;
      entities.set(s.entity, { version, task });
    } else {
      entities.set(s.entity, { version, task: { title: s.title, bucket: bucketOf[s.state] } });
    }
    runs.push('succeeded');
  }
  return { entities, runs };
}

const step = fc.record({
  entity: fc.integer({ min: 0, max: 2 }),
  kind: fc.constantFrom<Kind>('create', 'update', 'update', 'remove'),
  version: fc.integer({ min: 1, max: 8 }),
  title: fc.constantFrom('alpha', 'beta', 'gamma', POISON),
  state: fc.constantFrom<Step['state']>('unstarted', 'started', 'completed'),
});

describe('batched processing = one-at-a-time processing (property, real Postgres)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    // A permanent failure: a rule whose action names a container that does not exist, for
    // the issues titled POISON (created or updated).
    for (const event of ['issue.created', 'issue.updated']) {
      const res = await h.t.app.inject({
        method: 'POST',
        url: '/api/settings/automations',
        headers: h.session(),
        payload: {
          name: `Poison ${event}`,
          trigger: { source: 'linear', event, scope: { teamId: h.teamId } },
          conditions: { '==': [{ var: 'title' }, POISON] },
          actions: [
            { type: 'create_task', task: { title: '{{title}}' }, container: { id: randomUUID() } },
          ],
        },
      });
      if (res.statusCode !== 201) throw new Error(res.body);
    }
  });
  afterAll(async () => h.close());

  const workerWith = (batchSize: number) => {
    const app = h.t.app;
    return new InboxWorker(app.database, engineOf(app), workerOptions(app, { batchSize }));
  };

  /** Delivers the steps for fresh issue ids, drains them, and reads the end state back. */
  const run = async (steps: readonly Step[], batchSize: number) => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const base = Date.parse('2026-11-20T00:00:00.000Z');
    const deliveredAt = Date.now();
    for (const [i, s] of steps.entries()) {
      const payload = linearIssuePayload({
        id: ids[s.entity],
        teamId: h.teamId,
        action: s.kind,
        title: s.title,
        stateType: s.state,
        updatedAt: new Date(base + s.version * 1000).toISOString(),
        ...(s.kind === 'update' ? { updatedFrom: { title: 'before' } } : {}),
      });
      // Delivery order = provider order (the claim sorts by it); the version is separate.
      payload.createdAt = new Date(deliveredAt + i * 1000).toISOString();
      if (s.kind === 'remove')
        (payload.data as Record<string, unknown>).archivedAt = new Date(
          base + s.version * 1000,
        ).toISOString();
      const res = await h.deliverLinear(payload);
      expect(res.statusCode).toBe(200);
    }
    await workerWith(batchSize).drain();
    const db = h.t.app.database.db;
    const linked = await db
      .select({ externalId: externalLinks.externalId, title: tasks.title, bucket: tasks.bucket })
      .from(externalLinks)
      .innerJoin(tasks, eq(tasks.id, externalLinks.entityId))
      .where(
        and(inArray(externalLinks.externalId, ids), eq(externalLinks.containerId, h.containerId)),
      );
    const rows = await db
      .select({ id: inboxEvents.id, state: inboxEvents.state, occurredAt: inboxEvents.occurredAt })
      .from(inboxEvents)
      .where(inArray(inboxEvents.entityId, ids));
    rows.sort((a, b) => (a.occurredAt?.getTime() ?? 0) - (b.occurredAt?.getTime() ?? 0));
    const runs = await db
      .select({ inboxEventId: automationRuns.inboxEventId, status: automationRuns.status })
      .from(automationRuns)
      .where(
        and(
          inArray(
            automationRuns.inboxEventId,
            rows.map((r) => r.id),
          ),
          eq(automationRuns.targetKey, `sync:${h.containerId}`),
        ),
      );
    const statusOf = new Map(runs.map((r) => [r.inboxEventId, r.status]));
    const tasksByEntity = ids.map((id) =>
      linked.filter((l) => l.externalId === id).map((l) => ({ title: l.title, bucket: l.bucket })),
    );
    return {
      tasksByEntity,
      inbox: rows.map((r) => r.state),
      runs: rows.map((r) => statusOf.get(r.id)),
    };
  };

  it('random interleavings end in the reference model state, batched or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 2, max: 12 }),
        async (steps, batchSize) => {
          const expected = model(steps);
          const expectedTasks = [0, 1, 2].map((e) => {
            const task = expected.entities.get(e)?.task;
            return task ? [task] : [];
          });
          const expectedInbox = expected.runs.map((r) => (r === 'dead' ? 'failed' : 'processed'));
          for (const size of [1, batchSize]) {
            const got = await run(steps, size);
            expect(got.tasksByEntity).toEqual(expectedTasks);
            expect(got.inbox).toEqual(expectedInbox);
            expect(got.runs).toEqual(expected.runs);
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 300_000);
});
