import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents } from '../../src/db/schema.ts';
import { type FakeNotion, startFakeNotion } from '../helpers/fakes/notion-fake.ts';
import { notionPage, notionPageEvent } from './fixtures.ts';
import { type FlakyProxy, startFlakyProxy } from './flaky-proxy.ts';
import { connectNotion, type Harness, startHarness } from './harness.ts';

const NOTION_TOKEN = 'ntn_automation_test_token';

describe('Notion rules: the page is read back, then the rule applies', () => {
  let h: Harness;
  let notion: FakeNotion;
  let proxy: FlakyProxy;
  let deliver: (event: Record<string, unknown>) => Promise<number>;
  let workspaceId: string;
  let databaseId: string;

  beforeAll(async () => {
    notion = await startFakeNotion({ tokens: [NOTION_TOKEN] });
    proxy = await startFlakyProxy(notion.url, /^\/v1\/pages\//);
    h = await startHarness({
      link: false,
      env: { NOTION_API_URL: proxy.url, AUTOMATION_MAX_ATTEMPTS: '3' },
    });
    const connected = await connectNotion(h, NOTION_TOKEN);
    deliver = connected.deliver;
    workspaceId = notion.workspace.id;
    databaseId = randomUUID();
    const rule = await h.t.app.inject({
      method: 'POST',
      url: '/api/settings/automations',
      headers: h.session(),
      payload: {
        name: 'Notion tasks',
        trigger: { source: 'notion', event: 'page.created', scope: { databaseId } },
        conditions: { '!=': [{ var: 'properties.Status' }, 'Done'] },
        actions: [
          {
            type: 'create_task',
            task: { title: '{{properties.Name}}', dueDate: '{{properties.Due}}', notes: '{{url}}' },
            container: { name: 'From Notion' },
          },
        ],
      },
    });
    expect(rule.statusCode, rule.body).toBe(201);
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
    await notion.close();
  });

  const newPage = (title: string) => {
    const id = randomUUID();
    notion.pages.set(id, notionPage({ id, databaseId, title, due: '2026-12-31' }));
    return {
      id,
      event: { ...notionPageEvent({ pageId: id, databaseId }), workspace_id: workspaceId },
    };
  };
  const tasksOf = async (pageId: string) =>
    (await h.tasks('?limit=500')).filter((t) =>
      (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === pageId),
    );
  const inboxRow = async (pageId: string) => {
    const [row] = await h.t.app.database.db
      .select()
      .from(inboxEvents)
      .where(eq(inboxEvents.entityId, pageId));
    return row!;
  };
  /** Runs the worker until the event settles (retries are due after ~1 ms here). */
  const settle = async (pageId: string) => {
    for (let i = 0; i < 200; i++) {
      await h.drain();
      const row = await inboxRow(pageId);
      if (row.state === 'processed' || row.state === 'failed') return row;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('event did not settle');
  };

  it('page created → page read from the fake → task created per the rule', async () => {
    const { id, event } = newPage('Write the launch post');
    expect(await deliver(event)).toBe(200);
    await settle(id);
    const read = notion.requests.filter((r) => r.path === `/v1/pages/${id}`);
    expect(read).toHaveLength(1);
    expect(read[0]?.headers.authorization).toBe(`Bearer ${NOTION_TOKEN}`);
    expect(read[0]?.headers['notion-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const [task, ...more] = await tasksOf(id);
    expect(more).toHaveLength(0);
    expect(task).toMatchObject({
      title: 'Write the launch post',
      dueDate: '2026-12-31',
      notes: `https://www.notion.so/${id}`,
      externalLinks: [{ provider: 'notion', externalId: id }],
    });
  });

  it('provider 500s, then success → retried with backoff, applied once', async () => {
    const { id, event } = newPage('Flaky');
    proxy.failNext({ status: 500 }, { status: 502 });
    await deliver(event);
    const row = await settle(id);
    expect(row).toMatchObject({ state: 'processed', attempts: 3 });
    expect(await tasksOf(id)).toHaveLength(1);
  });

  it('a 429 is retried no sooner than Retry-After', async () => {
    const { id, event } = newPage('Slow down');
    proxy.failNext({ status: 429, headers: { 'retry-after': '30' } });
    await deliver(event);
    await h.drain();
    const [waiting] = await h.t.app.database.db
      .select({
        state: inboxEvents.state,
        lastError: inboxEvents.lastError,
        wait: sql<number>`extract(epoch from ${inboxEvents.nextAttemptAt} - now())`,
      })
      .from(inboxEvents)
      .where(eq(inboxEvents.entityId, id));
    expect(waiting?.state).toBe('pending');
    expect(waiting?.lastError).toMatch(/429/);
    expect(Number(waiting?.wait)).toBeGreaterThan(25);
    // Make it due now (as if 30 s had passed): then it goes through. The 429 also blocked
    // the connection's shared budget for those 30 s: lift it too.
    await h.t.app.database.db
      .update(inboxEvents)
      .set({ nextAttemptAt: sql`now()` })
      .where(eq(inboxEvents.entityId, id));
    await h.t.app.database.db.execute(sql`delete from provider_budgets`);
    expect((await settle(id)).state).toBe('processed');
    expect(await tasksOf(id)).toHaveLength(1);
  });

  it('after the maximum attempts the event is dead-lettered, and a replay applies it', async () => {
    const { id, event } = newPage('Down for a while');
    proxy.failNext({ status: 500 }, { status: 500 }, { status: 500 });
    await deliver(event);
    const dead = await settle(id);
    expect(dead).toMatchObject({ state: 'failed', attempts: 3 });
    expect(await tasksOf(id)).toHaveLength(0);
    const replay = await h.t.app.inject({
      method: 'POST',
      url: '/api/settings/automations/replay',
      headers: h.session(),
      payload: { eventIds: [dead.id] },
    });
    expect(replay.json().data.requeued).toEqual([dead.id]);
    expect((await settle(id)).state).toBe('processed');
    expect(await tasksOf(id)).toHaveLength(1);
  });

  it('events outside the rule scope or failing the condition create nothing', async () => {
    const other = randomUUID();
    notion.pages.set(other, notionPage({ id: other, databaseId: randomUUID() }));
    await deliver({ ...notionPageEvent({ pageId: other }), workspace_id: workspaceId });
    const done = randomUUID();
    notion.pages.set(done, notionPage({ id: done, databaseId, status: 'Done' }));
    await deliver({ ...notionPageEvent({ pageId: done, databaseId }), workspace_id: workspaceId });
    await settle(other);
    await settle(done);
    expect(await tasksOf(other)).toHaveLength(0);
    expect(await tasksOf(done)).toHaveLength(0);
  });
});
