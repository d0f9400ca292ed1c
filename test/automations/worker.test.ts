import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automationRuns, externalLinks, inboxEvents } from '../../src/db/schema.ts';
import { claimInboxEvents } from '../../src/modules/inbox/inbox.repository.ts';
import { backoffDelay, InboxWorker } from '../../src/modules/inbox/inbox.worker.ts';
import { testPostgresUrl } from '../helpers/database.ts';
import { linearIssuePayload } from './fixtures.ts';
import { engineOf, type Harness, startHarness, workerOptions } from './harness.ts';

describe('backoff', () => {
  it('grows exponentially, is capped, and is jittered between half and all of the step', () => {
    const o = { baseMs: 1000, maxMs: 60_000 };
    expect(backoffDelay(1, o, () => 0)).toBe(500);
    expect(backoffDelay(1, o, () => 1)).toBe(1000);
    expect(backoffDelay(4, o, () => 1)).toBe(8000);
    expect(backoffDelay(30, o, () => 1)).toBe(60_000);
    expect(backoffDelay(30, o, () => 0)).toBe(30_000);
  });
});

describe('the inbox worker under failure and concurrency', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  const linked = async (issueId: string) =>
    (await h.tasks('?limit=500')).filter((t) =>
      (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === issueId),
    );
  const row = async (issueId: string) => {
    const [r] = await h.t.app.database.db
      .select()
      .from(inboxEvents)
      .where(eq(inboxEvents.entityId, issueId));
    return r!;
  };

  it('a worker that claimed an event and vanished: the event is taken over when its lease ends', async () => {
    const id = randomUUID();
    await h.deliverLinear(linearIssuePayload({ id, teamId: h.teamId }));
    const claimed = await claimInboxEvents(h.t.app.database.db, {
      workerId: 'vanished',
      batch: 10,
      leaseMs: 1,
    });
    expect(claimed.map((c) => c.entityId)).toEqual([id]);
    await new Promise((r) => setTimeout(r, 20));
    expect(await h.drain()).toBe(1);
    expect(await row(id)).toMatchObject({ state: 'processed', attempts: 2 });
    expect(await linked(id)).toHaveLength(1);
  });

  it('a failure after writing rolls everything back; the retry applies it once', async () => {
    const id = randomUUID();
    await h.deliverLinear(linearIssuePayload({ id, teamId: h.teamId }));
    const app = h.t.app;
    let calls = 0;
    const handler = engineOf(app);
    const failing = new InboxWorker(
      app.database,
      {
        ...handler,
        async applyBatch(tx, batch, processed) {
          await handler.applyBatch(tx, batch, processed);
          calls += 1;
          // Written inside the transaction (task, link, run): then the connection "fails".
          const written = await tx
            .select()
            .from(externalLinks)
            .where(eq(externalLinks.externalId, id));
          expect(written).toHaveLength(1);
          throw new Error('connection lost after the insert');
        },
      },
      workerOptions(app),
    );
    expect(await failing.runOnce()).toBe(1);
    expect(calls).toBe(1);
    expect(await row(id)).toMatchObject({ state: 'pending', attempts: 1 });
    expect(await linked(id)).toHaveLength(0); // the task insert was rolled back with the rest
    await new Promise((r) => setTimeout(r, 5));
    await h.drain();
    expect(await linked(id)).toHaveLength(1);
    const runs = await app.database.db
      .select()
      .from(automationRuns)
      .where(eq(automationRuns.inboxEventId, (await row(id)).id));
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  /** A newer update of an issue (a minute ahead), with a new title. */
  const deliverUpdate = (id: string, title: string) =>
    h.deliverLinear(
      linearIssuePayload({
        id,
        teamId: h.teamId,
        action: 'update',
        title,
        updatedAt: new Date(Date.now() + 60_000).toISOString(),
        updatedFrom: { title: 'Fix the login bug' },
      }),
    );

  it('two workers draining the same inbox apply every event exactly once', async () => {
    const ids = Array.from({ length: 60 }, () => randomUUID());
    for (const id of ids) await h.deliverLinear(linearIssuePayload({ id, teamId: h.teamId }));
    // Updates of the same issues, interleaved: per-entity order must hold.
    for (const id of ids.slice(0, 20)) await deliverUpdate(id, 'updated');
    const app = h.t.app;
    const second = new InboxWorker(
      app.database,
      engineOf(app),
      workerOptions(app, { batchSize: 7, concurrency: 3 }),
    );
    await Promise.all([h.drain(), second.drain(), h.drain()]);
    const tasks = await h.tasks('?limit=500');
    for (const id of ids) {
      const mine = tasks.filter((t) =>
        (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === id),
      );
      expect(mine).toHaveLength(1);
    }
    const updated = tasks.filter((t) => t.title === 'updated');
    expect(updated).toHaveLength(20);
  });

  it('a running worker claims the next batch while the current one applies; each issue keeps its order', async () => {
    const ids = Array.from({ length: 6 }, () => randomUUID());
    for (const id of ids) await h.deliverLinear(linearIssuePayload({ id, teamId: h.teamId }));
    for (const id of ids) await deliverUpdate(id, 'updated in a later batch');
    const app = h.t.app;
    const handler = engineOf(app);
    const processing = async () =>
      (
        await app.database.db
          .select({ id: inboxEvents.id })
          .from(inboxEvents)
          .where(and(inArray(inboxEvents.entityId, ids), eq(inboxEvents.state, 'processing')))
      ).length;
    // Most rows claimed at once while a batch applies (3 without the overlap: its own).
    let mostClaimed = 0;
    const worker = new InboxWorker(
      app.database,
      {
        ...handler,
        async applyBatch(tx, batch, processed) {
          for (let i = 0; i < 40 && mostClaimed <= batch.length; i++) {
            mostClaimed = Math.max(mostClaimed, await processing());
            if (mostClaimed <= batch.length) await new Promise((r) => setTimeout(r, 25));
          }
          await handler.applyBatch(tx, batch, processed);
        },
      },
      workerOptions(app, { batchSize: 3, pollMs: 60_000 }),
    );
    await worker.start();
    try {
      for (let i = 0; i < 200; i++) {
        const rows = await app.database.db
          .select({ state: inboxEvents.state })
          .from(inboxEvents)
          .where(inArray(inboxEvents.entityId, ids));
        if (rows.length === 12 && rows.every((r) => r.state === 'processed')) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      await worker.stop();
    }
    expect(mostClaimed).toBe(6);
    for (const id of ids) {
      const mine = await linked(id);
      expect(mine).toHaveLength(1);
      expect(mine[0]?.title).toBe('updated in a later batch');
    }
  });

  const spawnChild = (mode: 'hang' | 'drain', batch: number, until: string) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/automations/worker-child.ts',
        h.t.db.url ?? '',
        mode,
        String(batch),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const reached = new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(until)) resolve(out);
      });
      child.on('exit', (code) => {
        if (!out.includes(until)) reject(new Error(`child exited early (${code}): ${out}`));
      });
    });
    return { child, reached };
  };

  it.skipIf(!testPostgresUrl())(
    'a worker process killed mid-batch (SIGKILL) → nothing half-applied, each event processed exactly once by another',
    async () => {
      const ids = Array.from({ length: 5 }, () => randomUUID());
      for (const [i, id] of ids.entries())
        await h.deliverLinear(
          linearIssuePayload({ id, teamId: h.teamId, title: `Survives a crash ${i}` }),
        );
      // Two of them also updated in the same batch.
      for (const id of ids.slice(0, 2)) await deliverUpdate(id, 'Updated before the crash');
      const { child, reached } = spawnChild('hang', 10, 'applied ');
      expect(await reached).toContain('applied 7');
      // Mid-batch: the child holds the claims and uncommitted tasks. Kill it.
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (const id of ids) {
        expect(await row(id)).toMatchObject({
          state: 'processing',
          attempts: 1,
          lockedBy: expect.any(String),
        });
        expect(await linked(id)).toHaveLength(0);
      }
      const runs = await h.t.app.database.db.select().from(automationRuns);
      const before = runs.length;
      // Its lease (1 s) runs out; then this process takes over.
      for (let i = 0; i < 100 && (await row(ids[4] ?? '')).state !== 'processed'; i++) {
        await h.drain();
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const [i, id] of ids.entries()) {
        const tasks = await linked(id);
        expect(tasks).toHaveLength(1);
        expect(tasks[0]?.title).toBe(i < 2 ? 'Updated before the crash' : `Survives a crash ${i}`);
      }
      const rows = await h.t.app.database.db
        .select()
        .from(inboxEvents)
        .where(inArray(inboxEvents.entityId, ids));
      expect(rows).toHaveLength(7);
      for (const r of rows) expect(r).toMatchObject({ state: 'processed', attempts: 2 });
      const after = await h.t.app.database.db.select().from(automationRuns);
      expect(after.length - before).toBe(7);
    },
  );

  it.skipIf(!testPostgresUrl())(
    'two worker processes on one inbox never double an item and keep per-issue order',
    async () => {
      const ids = Array.from({ length: 40 }, () => randomUUID());
      for (const id of ids) await h.deliverLinear(linearIssuePayload({ id, teamId: h.teamId }));
      for (const [i, id] of ids.slice(0, 20).entries()) await deliverUpdate(id, `v2 ${i}`);
      const children = [spawnChild('drain', 6, 'drained '), spawnChild('drain', 5, 'drained ')];
      const outputs = await Promise.all(children.map((c) => c.reached));
      const drained = outputs.map((o) => Number(/drained (\d+)/.exec(o)?.[1] ?? 0));
      expect(drained.reduce((a, b) => a + b, 0)).toBe(60);
      const tasks = await h.tasks('?limit=500');
      for (const [i, id] of ids.entries()) {
        const mine = tasks.filter((t) =>
          (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === id),
        );
        expect(mine).toHaveLength(1);
        if (i < 20) expect(mine[0]?.title).toBe(`v2 ${i}`);
      }
    },
  );
});

describe('the in-process worker started by the app', () => {
  let h: Harness;
  beforeAll(async () => {
    // A one-minute poll: only NOTIFY can make the event show up within the test.
    h = await startHarness({
      env: { AUTOMATION_WORKER_ENABLED: 'true', AUTOMATION_POLL_MS: '60000' },
    });
  });
  afterAll(async () => h.close());

  it('picks a delivery up on NOTIFY, without a test driving it, and stops with the app', async () => {
    expect(h.t.app.inboxWorker.running).toBe(true);
    const id = randomUUID();
    await h.deliverLinear(linearIssuePayload({ id, teamId: h.teamId }));
    let found = 0;
    for (let i = 0; i < 200 && found === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      found = (await h.tasks('?limit=500')).filter((t) =>
        (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === id),
      ).length;
    }
    expect(found).toBe(1);
  });
});
