import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automationRuns, inboxEvents } from '../../src/db/schema.ts';
import { linearIssuePayload } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

/** End to end: signed Linear deliveries → inbox → worker → tasks readable with an API key. */
describe('Linear sync of a linked container', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  const issue = (o: Parameters<typeof linearIssuePayload>[0]) =>
    linearIssuePayload({ teamId: h.teamId, ...o });
  const linked = async (issueId: string) =>
    (await h.tasks(`?containerId=${h.containerId}&limit=500`)).filter((t) =>
      (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === issueId),
    );

  it('a signed Issue create becomes one task, visible through GET /api/v1/tasks with its link', async () => {
    const id = randomUUID();
    const res = await h.deliverLinear(
      issue({ id, title: 'Ship the sync', stateType: 'unstarted', dueDate: '2026-12-24' }),
    );
    expect(res.statusCode).toBe(200);
    expect(await linked(id)).toHaveLength(0); // nothing before the worker ran
    expect(await h.drain()).toBe(1);
    const [task, ...rest] = await linked(id);
    expect(rest).toHaveLength(0);
    expect(task).toMatchObject({
      title: 'Ship the sync',
      notes: 'Steps to reproduce',
      bucket: 'todo',
      dueDate: '2026-12-24',
      containerId: h.containerId,
      externalLinks: [
        {
          provider: 'linear',
          externalId: id,
          url: `https://linear.app/acme/issue/ENG-1/${id}`,
          title: 'Ship the sync',
        },
      ],
    });
  });

  it('a state change to completed moves the task to done (doneAt set)', async () => {
    const id = randomUUID();
    await h.deliverLinear(issue({ id, updatedAt: '2026-11-27T10:00:00.000Z' }));
    await h.drain();
    await h.deliverLinear(
      issue({
        id,
        action: 'update',
        stateType: 'completed',
        stateName: 'Done',
        updatedAt: '2026-11-27T11:00:00.000Z',
        updatedFrom: { stateId: 'state-unstarted' },
      }),
    );
    await h.drain();
    const [task] = await linked(id);
    expect(task?.bucket).toBe('done');
    expect(task?.doneAt).toEqual(expect.any(Number));
  });

  it('the same delivery twice → one inbox row and one task', async () => {
    const id = randomUUID();
    const delivery = randomUUID();
    const payload = issue({ id });
    expect((await h.deliverLinear(payload, delivery)).statusCode).toBe(200);
    expect((await h.deliverLinear(payload, delivery)).statusCode).toBe(200);
    await h.drain();
    expect(await linked(id)).toHaveLength(1);
    // Even the same issue delivered again under another delivery id does not duplicate.
    await h.deliverLinear(payload);
    await h.drain();
    expect(await linked(id)).toHaveLength(1);
  });

  it('out of order: an update that arrives before its create wins, and the late create is ignored', async () => {
    const id = randomUUID();
    await h.deliverLinear(
      issue({
        id,
        action: 'update',
        title: 'Newer title',
        stateType: 'started',
        stateName: 'In Progress',
        updatedAt: '2026-11-27T12:00:00.000Z',
        updatedFrom: { title: 'Old title' },
      }),
    );
    await h.drain();
    await h.deliverLinear(issue({ id, title: 'Old title', updatedAt: '2026-11-27T11:00:00.000Z' }));
    await h.drain();
    const tasks = await linked(id);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ title: 'Newer title', bucket: 'in_progress' });
    const runs = await h.t.app.database.db
      .select()
      .from(automationRuns)
      .where(eq(automationRuns.targetKey, `sync:${h.containerId}`));
    expect(runs.some((r) => r.stage === 'stale' && r.status === 'skipped')).toBe(true);
  });

  it('a removed issue cancels its task (kept, not deleted); a stale update does not revive it', async () => {
    const id = randomUUID();
    await h.deliverLinear(issue({ id, updatedAt: '2026-11-27T10:00:00.000Z' }));
    await h.drain();
    await h.deliverLinear(issue({ id, action: 'remove' }));
    await h.drain();
    await h.deliverLinear(
      issue({
        id,
        action: 'update',
        stateType: 'started',
        updatedAt: '2026-11-27T10:30:00.000Z',
        updatedFrom: { stateId: 'x' },
      }),
    );
    await h.drain();
    const tasks = await linked(id);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.bucket).toBe('cancelled');
  });

  it('marks every processed inbox row processed, with its run recorded', async () => {
    const rows = await h.t.app.database.db.select().from(inboxEvents);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.every((r) => r.state === 'processed')).toBe(true);
  });
});
