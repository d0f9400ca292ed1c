import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { integrationConnections } from '../../src/db/schema.ts';
import { publicApiItemStore } from '../../src/modules/automations/automation.item-store.ts';
import { createLinearClient } from '../../src/modules/providers/linear/linear-api.ts';
import { LinearPushRunner } from '../../src/modules/providers/linear/linear-push.ts';
import { testPostgresUrl } from '../helpers/database.ts';
import { linearIssuePayload } from './fixtures.ts';
import { type Harness, LINEAR_KEY, startHarness } from './harness.ts';

/**
 * Two-way sync, end to end with the fake Linear: a task changed through /api/v1 is written to
 * the outbox in the same transaction, pushed with one `issueUpdate`, and Linear's echo of that
 * write is recognised. The fake keeps the issues it was told about and answers like Linear.
 */
describe('two-way sync: MONOid changes flow back to Linear', () => {
  let h: Harness;
  const issues = new Map<string, Record<string, unknown>>();
  const states = [
    { id: 'st-backlog', name: 'Backlog', type: 'backlog', position: 0 },
    { id: 'st-todo', name: 'Todo', type: 'unstarted', position: 1 },
    { id: 'st-progress', name: 'In Progress', type: 'started', position: 2 },
    { id: 'st-review', name: 'In Review', type: 'started', position: 3 },
    { id: 'st-done', name: 'Done', type: 'completed', position: 4 },
    { id: 'st-done-2', name: 'Shipped', type: 'completed', position: 5 },
    { id: 'st-canceled', name: 'Canceled', type: 'canceled', position: 6 },
  ];
  /** While set, `issueUpdate` applies the change and then never answers (a push in flight). */
  let holdAnswers = false;
  /** `issueUpdate` answers wait for this (a push in flight that ends when the test says). */
  let answerGate: Promise<void> = Promise.resolve();
  /** The distinct states each issue was moved to, in order (an update applied twice shows). */
  const transitions = new Map<string, string[]>();
  let clock = Date.parse('2026-11-30T10:00:00.000Z');
  const tick = () => {
    clock += 1000;
    return new Date(clock).toISOString();
  };

  beforeAll(async () => {
    h = await startHarness();
    h.linear.handle('MonoidTeamStates', () => ({ team: { states: { nodes: states } } }));
    h.linear.handle('MonoidIssueUpdate', async (variables) => {
      const issue = issues.get(String(variables.id));
      if (!issue) throw new Error('Entity not found');
      const input = variables.input as Record<string, unknown>;
      if (typeof input.stateId === 'string') {
        const state = states.find((s) => s.id === input.stateId);
        // Linear's answer to an unknown id: an `invalid input` error naming no field.
        if (!state) throw new Error('Entity not found');
        if ((issue.state as { id?: string } | undefined)?.id !== state.id)
          transitions.set(String(variables.id), [
            ...(transitions.get(String(variables.id)) ?? []),
            state.id,
          ]);
        issue.state = { id: state.id, name: state.name, type: state.type };
      }
      if (input.title !== undefined) issue.title = input.title;
      if (input.description !== undefined) issue.description = input.description;
      if (input.dueDate !== undefined) issue.dueDate = input.dueDate;
      issue.updatedAt = tick();
      if (holdAnswers) return new Promise(() => {});
      await answerGate;
      return { issueUpdate: { success: true, issue: { ...issue, labels: { nodes: [] } } } };
    });
  });
  afterAll(async () => h.close());
  beforeEach(() => {
    h.linear.calls.length = 0;
  });

  const push = () => h.t.app.providers.linear.push.drain();
  const db = () => h.t.app.database.db;
  const updates = () => h.linear.callsOf('MonoidIssueUpdate');

  /** An issue at the fake and its task in MONOid (through a signed webhook). */
  async function syncedIssue(title = 'Fix the login bug') {
    const id = randomUUID();
    const payload = linearIssuePayload({ id, teamId: h.teamId, title, updatedAt: tick() });
    const data = payload.data as Record<string, unknown>;
    issues.set(id, { ...data });
    expect((await h.deliverLinear(payload)).statusCode).toBe(200);
    await h.drain();
    const [task] = (await h.tasks(`?containerId=${h.containerId}&limit=500`)).filter((t) =>
      (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === id),
    );
    if (!task) throw new Error('task not synced');
    return { id, taskId: String(task._id) };
  }

  const patch = (taskId: string, payload: Record<string, unknown>) =>
    h.t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tasks/${taskId}`,
      headers: h.auth,
      payload,
    });
  const getTask = async (taskId: string) =>
    (
      await h.t.app.inject({ method: 'GET', url: `/api/v1/tasks/${taskId}`, headers: h.auth })
    ).json().data;
  /** Linear's webhook for the issue as the fake holds it now. */
  const echo = (id: string) => {
    const issue = issues.get(id) as Record<string, unknown>;
    const state = issue.state as { type: string; name: string };
    return h.deliverLinear(
      linearIssuePayload({
        id,
        teamId: h.teamId,
        action: 'update',
        title: String(issue.title),
        stateType: state.type as 'completed',
        stateName: state.name,
        updatedAt: String(issue.updatedAt),
        updatedFrom: { stateId: 'x' },
      }),
    );
  };
  const runs = async (): Promise<Array<Record<string, unknown>>> => {
    const res = await h.t.app.inject({
      method: 'GET',
      url: '/api/settings/automations/runs?limit=500',
      headers: h.session(),
    });
    expect(res.statusCode).toBe(200);
    return res.json().data;
  };
  const outboxRows = async () =>
    (await db().execute(sql`select task_id from linear_sync_outbox`)) as unknown as {
      rows: unknown[];
    };

  it('the harness link defaults to two_way (an API-key connection can write)', async () => {
    const res = await h.t.app.inject({
      method: 'GET',
      url: '/api/settings/integrations/linear/links',
      headers: h.session(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data[0]).toMatchObject({ sync: 'two_way', syncReason: null });
  });

  it('moving a synced task to done → exactly one issueUpdate with the team’s first completed state; the echo changes nothing', async () => {
    const { id, taskId } = await syncedIssue();
    expect((await patch(taskId, { bucket: 'done' })).statusCode).toBe(200);
    await push();
    expect(updates()).toHaveLength(1);
    expect(updates()[0]?.variables).toEqual({ id, input: { stateId: 'st-done' } });
    const before = await getTask(taskId);
    expect(before.bucket).toBe('done');

    // Linear's webhook for our own write: recognised, not applied, not pushed back.
    expect((await echo(id)).statusCode).toBe(200);
    await h.drain();
    await push();
    expect(updates()).toHaveLength(1);
    expect(await getTask(taskId)).toEqual(before);
    expect((await outboxRows()).rows).toHaveLength(0);

    // Run history: the push, next to the incoming events of the same task.
    const history = (await runs()).filter((r) =>
      (r.effects as Array<{ itemId: string }>).some((e) => e.itemId === taskId),
    );
    expect(history.filter((r) => r.direction === 'outgoing')).toEqual([
      expect.objectContaining({
        inboxEventId: null,
        kind: 'sync',
        status: 'succeeded',
        error: null,
        effects: [
          {
            action: 'push_linear',
            itemType: 'task',
            itemId: taskId,
            change: 'updated',
            detail: 'bucket',
          },
        ],
      }),
    ]);
    expect(history.filter((r) => r.direction === 'incoming').length).toBeGreaterThan(0);
  });

  it('several changes of one task coalesce into one call; incoming syncs are never pushed back', async () => {
    const { id, taskId } = await syncedIssue();
    for (const title of ['one', 'two', 'three', 'four', 'five'])
      expect((await patch(taskId, { title })).statusCode).toBe(200);
    expect((await patch(taskId, { bucket: 'in_review', dueDate: '2027-01-15' })).statusCode).toBe(
      200,
    );
    await push();
    expect(updates()).toHaveLength(1);
    expect(updates()[0]?.variables.input).toEqual({
      title: 'five',
      stateId: 'st-review',
      dueDate: '2027-01-15',
    });
    // A change made in Linear arrives: applied to the task, and nothing goes back.
    const issue = issues.get(id) as Record<string, unknown>;
    issue.title = 'renamed in Linear';
    issue.updatedAt = tick();
    await echo(id);
    await h.drain();
    expect((await getTask(taskId)).title).toBe('renamed in Linear');
    expect((await getTask(taskId)).bucket).toBe('in_review');
    await push();
    expect(updates()).toHaveLength(1);
  });

  it('a title edit in Linear and a bucket change in MONOid in the same second: both survive, either order', async () => {
    // (a) MONOid's change is pushed first; Linear's earlier edit arrives afterwards.
    const a = await syncedIssue('original A');
    const issueA = issues.get(a.id) as Record<string, unknown>;
    issueA.title = 'edited in Linear A';
    issueA.updatedAt = tick();
    const linearEdit = linearIssuePayload({
      id: a.id,
      teamId: h.teamId,
      action: 'update',
      title: 'edited in Linear A',
      updatedAt: String(issueA.updatedAt),
      updatedFrom: { title: 'original A' },
    });
    await patch(a.taskId, { bucket: 'done' });
    await push(); // Linear answers with its title and our state: the task's new baseline
    await h.deliverLinear(linearEdit); // older than our push: stale
    await h.drain();
    expect(await getTask(a.taskId)).toMatchObject({ title: 'edited in Linear A', bucket: 'done' });
    expect(issues.get(a.id)).toMatchObject({
      title: 'edited in Linear A',
      state: { id: 'st-done' },
    });

    // (b) Linear's edit is processed first, while MONOid's newer change waits in the outbox.
    const b = await syncedIssue('original B');
    const issueB = issues.get(b.id) as Record<string, unknown>;
    issueB.title = 'edited in Linear B';
    issueB.updatedAt = tick();
    const edit = linearIssuePayload({
      id: b.id,
      teamId: h.teamId,
      action: 'update',
      title: 'edited in Linear B',
      updatedAt: String(issueB.updatedAt),
      updatedFrom: { title: 'original B' },
    });
    clock += 1000; // MONOid's change is later than Linear's edit
    await patch(b.taskId, { bucket: 'done' });
    await h.deliverLinear(edit);
    await h.drain(); // the title applies; the pending bucket keeps MONOid's value
    expect(await getTask(b.taskId)).toMatchObject({ title: 'edited in Linear B', bucket: 'done' });
    await push();
    expect(issues.get(b.id)).toMatchObject({
      title: 'edited in Linear B',
      state: { id: 'st-done' },
    });
  });

  it('a from_provider link sends nothing', async () => {
    const { taskId } = await syncedIssue();
    const workspace = { organisationId: null, userId: h.userId };
    const link = await h.t.app.providers.linear.connect.linkContainer({
      workspace,
      userId: h.userId,
      containerId: h.containerId,
      teamId: h.teamId,
      sync: 'from_provider',
    });
    expect(link.link.sync).toBe('from_provider');
    await patch(taskId, { bucket: 'done', title: 'not for Linear' });
    expect((await outboxRows()).rows).toHaveLength(0);
    await push();
    expect(updates()).toHaveLength(0);
    await h.t.app.providers.linear.connect.linkContainer({
      workspace,
      userId: h.userId,
      containerId: h.containerId,
      teamId: h.teamId,
      sync: 'two_way',
    });
  });

  it('a connection that cannot write forces from_provider, with the reason', async () => {
    await db()
      .update(integrationConnections)
      .set({ authType: 'oauth', scopes: 'read' })
      .where(eq(integrationConnections.id, h.connectionId));
    try {
      const res = await h.t.app.inject({
        method: 'PUT',
        url: `/api/settings/integrations/linear/links/${h.containerId}`,
        headers: h.session(),
        payload: { teamId: h.teamId, sync: 'two_way' },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json().data).toMatchObject({
        sync: 'from_provider',
        syncReason: expect.stringContaining('write'),
      });
    } finally {
      await db()
        .update(integrationConnections)
        .set({ authType: 'api_key', scopes: null })
        .where(eq(integrationConnections.id, h.connectionId));
    }
  });

  it.skipIf(!testPostgresUrl())(
    'a push worker process killed mid-push (SIGKILL) → another process pushes after the lease: applied once, row done',
    async () => {
      await h.t.app.providers.linear.connect.linkContainer({
        workspace: { organisationId: null, userId: h.userId },
        userId: h.userId,
        containerId: h.containerId,
        teamId: h.teamId,
        sync: 'two_way',
      });
      const { id, taskId } = await syncedIssue();
      expect((await patch(taskId, { bucket: 'done' })).statusCode).toBe(200);
      const pushProcess = () =>
        spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            'test/automations/push-child.ts',
            h.t.db.url ?? '',
            h.linear.graphqlUrl,
            LINEAR_KEY,
          ],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
      holdAnswers = true;
      const first = pushProcess();
      const firstExit = new Promise((r) => first.once('exit', r));
      try {
        // Linear applied the update; its answer is held, so the process is mid-push.
        // A process starting under a loaded machine takes seconds (tsx transform).
        for (let i = 0; i < 800 && updates().length === 0; i++)
          await new Promise((r) => setTimeout(r, 50));
        expect(updates()).toHaveLength(1);
        first.kill('SIGKILL');
        await firstExit;
      } finally {
        holdAnswers = false;
        first.kill('SIGKILL');
      }
      const row = async () =>
        (
          (await db().execute(
            sql`select state, locked_by from linear_sync_outbox where task_id = ${taskId}`,
          )) as unknown as { rows: Array<{ state: string; locked_by: string | null }> }
        ).rows[0];
      expect(await row()).toMatchObject({ state: 'pending', locked_by: expect.any(String) });

      // A new process finds the row leased, waits for the lease (1 s) and pushes it again.
      const second = pushProcess();
      const code = await new Promise((r) => second.once('exit', r));
      expect(code).toBe(0);
      expect(updates()).toHaveLength(2);
      expect(updates()[1]?.variables).toEqual(updates()[0]?.variables);
      expect(transitions.get(id)).toEqual(['st-done']);
      expect(await row()).toBeUndefined();
      expect((await getTask(taskId)).bucket).toBe('done');
      const pushed = (await db().execute(
        sql`select pushed_version_at from automation_external_items where external_id = ${id}`,
      )) as unknown as { rows: Array<{ pushed_version_at: string | null }> };
      const issue = issues.get(id) as Record<string, unknown>;
      expect(Number(pushed.rows[0]?.pushed_version_at)).toBe(Date.parse(String(issue.updatedAt)));
    },
    120_000,
  );

  it('an API change while a push applies Linear’s answer: the PATCH waits and answers 200, no deadlock', async () => {
    const { id, taskId } = await syncedIssue();
    expect((await patch(taskId, { title: 'first' })).statusCode).toBe(200);
    // A pusher whose task write pauses inside its transaction, after the outbox row is done.
    let entered: () => void = () => {};
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const client = createLinearClient(h.linear.graphqlUrl, {
      authType: 'api_key',
      token: LINEAR_KEY,
    });
    const pusher = new LinearPushRunner({
      db: db(),
      store: {
        ...publicApiItemStore,
        updateTask: async (...args: Parameters<typeof publicApiItemStore.updateTask>) => {
          entered();
          await gate;
          return publicApiItemStore.updateTask(...args);
        },
      },
      linearClient: async () => client,
      log: h.t.app.log,
      batchSize: 10,
      leaseMs: 30_000,
      pollMs: 50,
      maxAttempts: 5,
      retryBaseMs: 1,
      retryMaxMs: 1,
    });
    await db().execute(sql`update linear_sync_outbox set next_attempt_at = now()`);
    const pushing = pusher.runOnce();
    await inside;
    const second = patch(taskId, { title: 'second' });
    await new Promise((r) => setTimeout(r, 300));
    release();
    await pushing;
    expect((await second).statusCode).toBe(200);
    const row = (await db().execute(
      sql`select state, last_error from linear_sync_outbox where task_id = ${taskId}`,
    )) as unknown as { rows: Array<{ state: string; last_error: string | null }> };
    // The push finished cleanly; the later change waits for the next one.
    expect(row.rows[0]).toEqual({ state: 'pending', last_error: null });
    await push();
    expect(issues.get(id)).toMatchObject({ title: 'second' });
    expect((await getTask(taskId)).title).toBe('second');
  });

  it('an issue gone at Linear dead-letters the push', async () => {
    const gone = await syncedIssue();
    issues.delete(gone.id);
    await patch(gone.taskId, { title: 'nobody home' });
    await push();
    const failed = (await db().execute(
      sql`select state, last_error from linear_sync_outbox where task_id = ${gone.taskId}`,
    )) as unknown as { rows: Array<{ state: string; last_error: string }> };
    expect(failed.rows[0]?.state).toBe('failed');
    expect(failed.rows[0]?.last_error).toContain('Entity not found');
    const pushes = (await runs()).filter(
      (r) =>
        r.direction === 'outgoing' &&
        (r.effects as Array<{ itemId: string }>).some((e) => e.itemId === gone.taskId),
    );
    expect(pushes).toEqual([
      expect.objectContaining({
        status: 'dead',
        error: expect.stringContaining('Entity not found'),
        effects: [expect.objectContaining({ change: 'not_updated', detail: 'title' })],
      }),
    ]);
  });

  it('a state Linear no longer knows (by error type, not text): states are read again and the push retried once', async () => {
    const a = await syncedIssue();
    await patch(a.taskId, { bucket: 'done' });
    await push(); // the team's states are now cached
    expect(updates().at(-1)?.variables.input).toEqual({ stateId: 'st-done' });
    const at = states.findIndex((s) => s.id === 'st-done');
    const saved = states[at];
    if (!saved) throw new Error('no done state');
    states[at] = { ...saved, id: 'st-done-new' }; // the team's Done state was replaced at Linear
    try {
      const b = await syncedIssue();
      await patch(b.taskId, { bucket: 'done' });
      h.linear.calls.length = 0;
      await push();
      expect(updates().map((c) => c.variables.input)).toEqual([
        { stateId: 'st-done' },
        { stateId: 'st-done-new' },
      ]);
      expect(h.linear.callsOf('MonoidTeamStates')).toHaveLength(1);
      expect(issues.get(b.id)).toMatchObject({ state: { id: 'st-done-new' } });
      const left = (await db().execute(
        sql`select 1 from linear_sync_outbox where task_id = ${b.taskId}`,
      )) as unknown as { rows: unknown[] };
      expect(left.rows).toHaveLength(0);
    } finally {
      states[at] = saved;
    }
  });
  it('a change made while its push is in flight is kept, not reverted by Linear’s answer, and pushed next', async () => {
    const { id, taskId } = await syncedIssue();
    // Linear's versions after the change below (its answer is later than the change in time).
    clock = Math.max(clock, Date.now() + 60_000);
    expect((await patch(taskId, { title: 'A' })).statusCode).toBe(200);
    let release: () => void = () => {};
    answerGate = new Promise<void>((r) => {
      release = r;
    });
    const pushing = push();
    try {
      for (let i = 0; i < 200 && updates().length === 0; i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(updates()[0]?.variables.input).toEqual({ title: 'A' });
      expect((await patch(taskId, { title: 'B' })).statusCode).toBe(200);
    } finally {
      answerGate = Promise.resolve();
      release();
    }
    await pushing;
    await push();
    expect(updates().map((c) => (c.variables.input as { title: string }).title)).toEqual([
      'A',
      'B',
    ]);
    expect((await getTask(taskId)).title).toBe('B');
    expect(issues.get(id)).toMatchObject({ title: 'B' });
  });
});
