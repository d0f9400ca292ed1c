import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents, syncOutbox } from '../../src/db/schema.ts';
import { type FakeNotion, startFakeNotion } from '../helpers/fakes/notion-fake.ts';
import { notionPage, notionPageEvent } from './fixtures.ts';
import { connectNotion, type Harness, startHarness } from './harness.ts';

const NOTION_TOKEN = 'ntn_write_back_test_token';

describe('Notion write-back: a two_way rule maps MONOid fields to page properties', () => {
  let h: Harness;
  let notion: FakeNotion;
  let deliver: (event: Record<string, unknown>) => Promise<number>;
  const twoWayDb = randomUUID();
  let twoWayRuleId: string;
  const oneWayDb = randomUUID();

  const rulesApi = (method: 'POST' | 'PATCH', url: string, payload: Record<string, unknown>) =>
    h.t.app.inject({
      method,
      url: `/api/settings/automations${url}`,
      headers: h.session(),
      payload,
    });
  const createRule = (databaseId: string, extra: Record<string, unknown>) =>
    rulesApi('POST', '', {
      name: `Notion ${databaseId}`,
      trigger: { source: 'notion', event: 'page.created', scope: { databaseId } },
      actions: [
        {
          type: 'create_task',
          task: { title: '{{properties.Name}}' },
          container: { name: 'From Notion' },
        },
      ],
      ...extra,
    });

  beforeAll(async () => {
    notion = await startFakeNotion({ tokens: [NOTION_TOKEN] });
    h = await startHarness({ link: false, env: { NOTION_API_URL: notion.url } });
    deliver = (await connectNotion(h, NOTION_TOKEN)).deliver;
    const twoWay = await createRule(twoWayDb, {
      sync: 'two_way',
      writeBack: [
        { field: 'bucket', property: 'Done', type: 'checkbox', values: { done: true } },
        { field: 'title', property: 'Name', type: 'title' },
      ],
    });
    expect(twoWay.statusCode, twoWay.body).toBe(201);
    expect(twoWay.json().data).toMatchObject({ sync: 'two_way', writeBack: expect.any(Array) });
    twoWayRuleId = twoWay.json().data.id;
    // Edits of the page's title in Notion update the task (the echo must not re-apply).
    const onEdit = await rulesApi('POST', '', {
      name: 'Notion title edits',
      trigger: {
        source: 'notion',
        event: 'page.properties_updated',
        scope: { databaseId: twoWayDb },
      },
      actions: [{ type: 'update_linked', task: { title: '{{properties.Name}}' } }],
    });
    expect(onEdit.statusCode, onEdit.body).toBe(201);
    const oneWay = await createRule(oneWayDb, {});
    expect(oneWay.statusCode, oneWay.body).toBe(201);
    expect(oneWay.json().data).toMatchObject({ sync: 'from_provider', writeBack: null });
  });
  afterAll(async () => {
    await h?.close();
    await notion?.close();
  });

  const settle = async (deliveryId: string) => {
    for (let i = 0; i < 200; i++) {
      await h.drain();
      const [row] = await h.t.app.database.db
        .select()
        .from(inboxEvents)
        .where(eq(inboxEvents.deliveryId, deliveryId));
      if (row?.state === 'processed' || row?.state === 'failed') return row;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('event did not settle');
  };
  const send = async (event: Record<string, unknown>) => {
    const full: Record<string, unknown> = { ...event, workspace_id: notion.workspace.id };
    expect(await deliver(full)).toBe(200);
    return settle(String(full.id));
  };
  /** A page in `databaseId`, delivered as created; returns the page and its task. */
  const pageWithTask = async (databaseId: string, title: string) => {
    const pageId = randomUUID();
    notion.pages.set(pageId, notionPage({ id: pageId, databaseId, title }));
    await send(notionPageEvent({ pageId, databaseId }));
    const [task] = (await h.tasks('?limit=500')).filter((t) =>
      (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === pageId),
    );
    if (!task) throw new Error('task not created');
    return { pageId, taskId: String(task._id) };
  };
  const ruleCount = async () =>
    (
      await h.t.app.inject({
        method: 'GET',
        url: '/api/settings/automations',
        headers: h.session(),
      })
    ).json().data.length as number;
  const patch = (taskId: string, payload: Record<string, unknown>) =>
    h.t.app.inject({ method: 'PATCH', url: `/api/v1/tasks/${taskId}`, headers: h.auth, payload });
  const push = () => h.t.app.providers.notion.push.drain();
  const updatesOf = (pageId: string) =>
    notion.requests.filter((r) => r.method === 'PATCH' && r.path === `/v1/pages/${pageId}`);
  const outboxOf = async (taskId: string) =>
    h.t.app.database.db
      .select()
      .from(syncOutbox)
      .where(and(eq(syncOutbox.taskId, taskId), eq(syncOutbox.provider, 'notion')));
  const runs = async (query: string) =>
    (
      await h.t.app.inject({
        method: 'GET',
        url: `/api/settings/automations/runs?${query}`,
        headers: h.session(),
      })
    ).json().data as Array<Record<string, unknown>>;

  it('bucket=done through /api/v1 → exactly one pages.update with Done checked; the echo is neither applied nor pushed back', async () => {
    const { pageId, taskId } = await pageWithTask(twoWayDb, 'Ship the release');
    expect(updatesOf(pageId)).toHaveLength(0);

    const res = await patch(taskId, { bucket: 'done' });
    expect(res.statusCode, res.body).toBe(200);
    await push();
    const [update, ...more] = updatesOf(pageId);
    expect(more).toHaveLength(0);
    expect(update?.body).toEqual({ properties: { Done: { checkbox: true } } });
    expect(update?.headers.authorization).toBe(`Bearer ${NOTION_TOKEN}`);
    expect(await outboxOf(taskId)).toHaveLength(0);
    const pushRuns = (await runs('status=succeeded')).filter(
      (r) =>
        r.direction === 'outgoing' &&
        (r.effects as Array<{ action: string; itemId: string }>).some(
          (e) => e.action === 'push_notion' && e.itemId === taskId,
        ),
    );
    expect(pushRuns).toHaveLength(1);

    // Notion's webhook for our own write, authored by our bot: skipped.
    const echo = await send(
      notionPageEvent({
        type: 'page.properties_updated',
        pageId,
        databaseId: twoWayDb,
        authorType: 'bot',
      }),
    );
    expect(echo?.state).toBe('processed');
    expect(await runs(`inboxEventId=${echo?.id}`)).toEqual([]);
    await push();
    expect(updatesOf(pageId)).toHaveLength(1);
    expect(await outboxOf(taskId)).toHaveLength(0);

    // A person's edit of the page is applied, and not pushed back to Notion.
    const page = notion.pages.get(pageId) as Record<string, unknown>;
    notion.pages.set(pageId, {
      ...page,
      ...notionPage({ id: pageId, databaseId: twoWayDb, title: 'Ship the release (v2)' }),
      last_edited_time: new Date(Date.now() + 60_000).toISOString(),
    });
    const edit = await send(
      notionPageEvent({ type: 'page.properties_updated', pageId, databaseId: twoWayDb }),
    );
    expect((await runs(`inboxEventId=${edit?.id}`)).map((r) => r.status)).toEqual(['succeeded']);
    const task = (
      await h.t.app.inject({ method: 'GET', url: `/api/v1/tasks/${taskId}`, headers: h.auth })
    ).json().data;
    expect(task).toMatchObject({ title: 'Ship the release (v2)', bucket: 'done' });
    await push();
    expect(updatesOf(pageId)).toHaveLength(1);
  });

  it('several changes of one task coalesce into one pages.update carrying them all', async () => {
    const { pageId, taskId } = await pageWithTask(twoWayDb, 'Plan the offsite');
    expect((await patch(taskId, { title: 'Plan the offsite (Lisbon)' })).statusCode).toBe(200);
    expect((await patch(taskId, { bucket: 'done' })).statusCode).toBe(200);
    expect((await patch(taskId, { bucket: 'todo' })).statusCode).toBe(200);
    await push();
    const [update, ...more] = updatesOf(pageId);
    expect(more).toHaveLength(0);
    expect(update?.body).toEqual({
      properties: {
        Done: { checkbox: false },
        Name: { title: [{ type: 'text', text: { content: 'Plan the offsite (Lisbon)' } }] },
      },
    });

    // The dry run of the rule shows what write-back sends to the page for its task.
    const dry = await rulesApi('POST', `/${twoWayRuleId}/dry-run`, {
      payload: { ...notionPageEvent({ pageId, databaseId: twoWayDb }), workspace_id: 'ws' },
      page: notion.pages.get(pageId),
    });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json().data.pushes).toEqual([
      {
        provider: 'notion',
        externalId: pageId,
        itemId: taskId,
        properties: {
          Done: { checkbox: false },
          Name: { title: [{ type: 'text', text: { content: 'Plan the offsite (Lisbon)' } }] },
        },
      },
    ]);
    expect(updatesOf(pageId)).toHaveLength(1);
  });

  it('a from_provider rule sends nothing', async () => {
    const { pageId, taskId } = await pageWithTask(oneWayDb, 'Read only');
    expect((await patch(taskId, { bucket: 'done' })).statusCode).toBe(200);
    expect(await outboxOf(taskId)).toHaveLength(0);
    await push();
    expect(updatesOf(pageId)).toHaveLength(0);
  });

  it('a page gone at Notion (404) dead-letters the push, with the reason in run history', async () => {
    const { pageId, taskId } = await pageWithTask(twoWayDb, 'Soon deleted');
    notion.pages.delete(pageId);
    expect((await patch(taskId, { bucket: 'done' })).statusCode).toBe(200);
    await push();
    expect(updatesOf(pageId)).toHaveLength(1);
    const [row] = await outboxOf(taskId);
    expect(row).toMatchObject({ state: 'failed', lastError: expect.stringMatching(/404/) });
    const dead = (await runs('status=dead')).filter((r) =>
      (r.effects as Array<{ itemId: string }>).some((e) => e.itemId === taskId),
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ direction: 'outgoing', error: expect.stringMatching(/404/) });
    await push();
    expect(updatesOf(pageId)).toHaveLength(1);
  });

  it('a 429 backs off no sooner than Retry-After, then the push goes through once', async () => {
    const { pageId, taskId } = await pageWithTask(twoWayDb, 'Rate limited');
    expect((await patch(taskId, { bucket: 'done' })).statusCode).toBe(200);
    notion.rateLimitNext(1, 30);
    await push();
    const { rows } = (await h.t.app.database.db.execute(
      sql`select state, last_error as "lastError",
                 extract(epoch from next_attempt_at - now()) as wait
            from linear_sync_outbox where task_id = ${taskId} and provider = 'notion'`,
    )) as unknown as { rows: Array<Record<string, unknown>> };
    const waiting = rows[0];
    expect(waiting).toMatchObject({ state: 'pending', lastError: expect.stringMatching(/429/) });
    expect(Number(waiting?.wait)).toBeGreaterThan(25);
    // As if the 30 s had passed (the 429 also blocked the connection's shared budget).
    await h.t.app.database.db.execute(
      sql`with due as (update linear_sync_outbox set next_attempt_at = now() where task_id = ${taskId})
          delete from provider_budgets`,
    );
    await push();
    // The refused call and the one that went through (the fake records both).
    const done = { properties: { Done: { checkbox: true } } };
    expect(updatesOf(pageId).map((r) => r.body)).toEqual([done, done]);
    expect(await outboxOf(taskId)).toHaveLength(0);
  });

  it('a bad mapping is refused with 400 and nothing is saved', async () => {
    const cases: Array<Record<string, unknown>> = [
      // A checkbox is written from the bucket, not from the title.
      { sync: 'two_way', writeBack: [{ field: 'title', property: 'Done', type: 'checkbox' }] },
      { sync: 'two_way', writeBack: [] },
      {
        sync: 'two_way',
        writeBack: [{ field: 'bucket', property: 'Status', type: 'status', values: {} }],
      },
      {
        sync: 'two_way',
        writeBack: [
          { field: 'dueDate', property: 'When', type: 'date' },
          { field: 'doDate', property: 'When', type: 'date' },
        ],
      },
      { writeBack: [{ field: 'bucket', property: 'Done', type: 'checkbox', values: { nope: 1 } }] },
    ];
    const before = await ruleCount();
    for (const extra of cases) {
      const res = await createRule(randomUUID(), extra);
      expect(res.statusCode, JSON.stringify(extra)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    }
    const linearRule = await rulesApi('POST', '', {
      name: 'Linear write-back',
      trigger: { source: 'linear', event: 'issue.created' },
      actions: [{ type: 'create_task', task: { title: '{{title}}' } }],
      sync: 'two_way',
      writeBack: [{ field: 'title', property: 'Name', type: 'title' }],
    });
    expect(linearRule.statusCode).toBe(400);
    expect(linearRule.json().errors.map((e: { path: string }) => e.path)).toContain('sync');
    const after = await ruleCount();
    expect(after).toBe(before);
  });
});
