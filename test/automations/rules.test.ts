import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboxEvents, linearWebhookNeeds } from '../../src/db/schema.ts';
import { mintSessionToken } from '../helpers/clerk.ts';
import { linearIssuePayload } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

describe('user automations under /api/settings/automations', () => {
  let h: Harness;
  let ruleId: string;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    h.t.app.inject({
      method,
      url: `/api/settings/automations${url}`,
      headers: h.session(),
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  const bugRule = () => ({
    name: 'Bugs to Support',
    trigger: { source: 'linear', event: 'issue.created', scope: { teamId: h.teamId } },
    conditions: { in: ['bug', { var: 'labels' }] },
    actions: [
      {
        type: 'create_task',
        task: { title: '[{{team.key}}] {{title}}', notes: '{{description}}', bucket: '{{bucket}}' },
        container: { name: 'Support' },
      },
    ],
  });
  const issue = (o: Parameters<typeof linearIssuePayload>[0]) =>
    linearIssuePayload({ teamId: h.teamId, ...o });
  const tasksOf = async (issueId: string) =>
    (await h.tasks('?limit=500')).filter((t) =>
      (t.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === issueId),
    );

  it('needs a session; an API key cannot call it', async () => {
    const res = await h.t.app.inject({
      method: 'GET',
      url: '/api/settings/automations',
      headers: h.auth,
    });
    expect(res.statusCode).toBe(401);
  });

  it('rejects unknown template fields and conditions that do not parse, with errors[]', async () => {
    const res = await api('POST', '', {
      ...bugRule(),
      conditions: '{"in": ["bug", {"var": "labels"}',
      actions: [{ type: 'create_task', task: { title: '{{titel}}' } }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR' });
    const paths = res.json().errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(['conditions', 'actions.0.task.title']);
    const unknownField = await api('POST', '', {
      ...bugRule(),
      conditions: { '==': [{ var: 'labelz' }, 'bug'] },
    });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().errors[0].message).toBe('unknown field "labelz"');
    expect((await api('GET', '')).json().data).toEqual([]);
  });

  it('creates a rule and registers the webhook need it has', async () => {
    const res = await api('POST', '', bugRule());
    expect(res.statusCode, res.body).toBe(201);
    ruleId = res.json().data.id;
    expect(res.json().data).toMatchObject({ enabled: true, name: 'Bugs to Support' });
    const needs = await h.t.app.database.db.select().from(linearWebhookNeeds);
    expect(needs.map((n) => n.reason).sort()).toEqual(
      [`automation:${ruleId}`, `container:${h.containerId}`].sort(),
    );
    expect((await api('GET', `/${ruleId}`)).json().data.trigger.scope.teamId).toBe(h.teamId);
  });

  it('a signed delivery with label bug creates exactly one task in container Support', async () => {
    const id = randomUUID();
    await h.deliverLinear(
      issue({ id, labels: [{ id: 'l-bug', name: 'bug' }], stateType: 'started' }),
    );
    await h.drain();
    const tasks = await tasksOf(id);
    // One per container: the rule's in Support, the sync's in the linked container.
    expect(tasks).toHaveLength(2);
    const support = tasks.find((t) => t.containerId !== h.containerId);
    expect(support).toMatchObject({ title: '[ENG] Fix the login bug', bucket: 'in_progress' });
    const containers = await h.t.app.inject({
      method: 'GET',
      url: `/api/v1/containers/${support?.containerId}`,
      headers: h.auth,
    });
    expect(containers.json().data.name).toBe('Support');
    const runs = (await api('GET', `/${ruleId}/runs`)).json().data;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'succeeded', matched: true });
    expect(
      runs[0].effects.map((e: { change: string; itemType: string }) => `${e.itemType}:${e.change}`),
    ).toEqual(['container:created', 'task:created']);
  });

  it('the run history explains a non-matching event', async () => {
    const id = randomUUID();
    await h.deliverLinear(issue({ id, labels: [{ id: 'l-f', name: 'feature' }] }));
    await h.drain();
    const runs = (await api('GET', `/${ruleId}/runs?status=not_matched`)).json().data;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      status: 'not_matched',
      matched: false,
      stage: 'conditions',
      failedCondition: { index: null, condition: { in: ['bug', { var: 'labels' }] } },
    });
    expect((await tasksOf(id)).filter((t) => t.containerId !== h.containerId)).toHaveLength(0);
  });

  it('dry run reports what it would do and changes nothing', async () => {
    const before = (await h.tasks('?limit=500')).length;
    const res = await api('POST', `/${ruleId}/dry-run`, {
      payload: issue({ id: randomUUID(), labels: [{ id: 'l-bug', name: 'bug' }] }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      matched: true,
      effects: [{ itemType: 'task', change: 'would_create', detail: '[ENG] Fix the login bug' }],
      actions: [{ type: 'create_task', container: { by: 'name', name: 'Support' } }],
    });
    const stored = (await h.t.app.database.db.select().from(inboxEvents))[0];
    const onStored = await api('POST', `/${ruleId}/dry-run`, { inboxEventId: stored?.id });
    expect(onStored.statusCode, onStored.body).toBe(200);
    const unsaved = await api('POST', '/dry-run', {
      definition: { ...bugRule(), conditions: { '==': [{ var: 'priority' }, 1] } },
      payload: issue({ id: randomUUID() }),
    });
    expect(unsaved.json().data).toMatchObject({ matched: false, stage: 'conditions' });
    expect((await h.tasks('?limit=500')).length).toBe(before);
    expect(await h.drain()).toBe(0);
  });

  it('a permanent failure is dead-lettered, visible, and replayable after the rule is fixed', async () => {
    const created = await api('POST', '', {
      ...bugRule(),
      name: 'Into a container that does not exist',
      conditions: { in: ['urgent', { var: 'labels' }] },
      actions: [
        { type: 'create_task', task: { title: '{{title}}' }, container: { id: randomUUID() } },
      ],
    });
    const badId = created.json().data.id;
    const id = randomUUID();
    await h.deliverLinear(issue({ id, labels: [{ id: 'l-u', name: 'urgent' }] }));
    await h.drain();
    const dead = (await api('GET', '/events?state=failed')).json().data;
    expect(dead).toHaveLength(1);
    expect(dead[0].lastError).toMatch(/does not exist/);
    const runs = (await api('GET', `/${badId}/runs`)).json().data;
    expect(runs[0]).toMatchObject({
      status: 'dead',
      error: expect.stringMatching(/does not exist/),
    });
    // The sync's change for that event did not commit either: all or nothing per event.
    expect(await tasksOf(id)).toHaveLength(0);

    const fixed = await api('PATCH', `/${badId}`, {
      actions: [
        {
          type: 'create_task',
          task: { title: 'Urgent: {{title}}' },
          container: { name: 'Urgent' },
        },
      ],
    });
    expect(fixed.statusCode, fixed.body).toBe(200);
    const replay = await api('POST', '/replay', { deadLettered: true });
    expect(replay.json().data.requeued).toEqual([dead[0].id]);
    await h.drain();
    expect((await api('GET', '/events?state=failed')).json().data).toHaveLength(0);
    const tasks = await tasksOf(id);
    expect(tasks.map((t) => t.title).sort()).toEqual([
      'Fix the login bug',
      'Urgent: Fix the login bug',
    ]);
    expect((await api('GET', `/${badId}/runs`)).json().data[0]).toMatchObject({
      status: 'succeeded',
    });
    // Replaying again changes nothing twice.
    await api('POST', '/replay', { eventIds: [dead[0].id] });
    await h.drain();
    expect(await tasksOf(id)).toHaveLength(2);
  });

  it('disabling releases the webhook need; deleting removes the rule', async () => {
    const disabled = await api('POST', `/${ruleId}/disable`);
    expect(disabled.json().data.enabled).toBe(false);
    const reasons = (await h.t.app.database.db.select().from(linearWebhookNeeds)).map(
      (n) => n.reason,
    );
    expect(reasons).not.toContain(`automation:${ruleId}`);
    expect((await api('POST', `/${ruleId}/enable`)).json().data.enabled).toBe(true);
    expect((await api('DELETE', `/${ruleId}`)).json().data).toEqual({ id: ruleId, deleted: true });
    expect((await api('GET', `/${ruleId}`)).statusCode).toBe(404);
    const after = (await h.t.app.database.db.select().from(linearWebhookNeeds)).map(
      (n) => n.reason,
    );
    expect(after).not.toContain(`automation:${ruleId}`);
  });

  it('in an organisation only admins manage automations', async () => {
    const orgId = `org_${randomUUID()}`;
    const member = mintSessionToken({ sub: h.clerkUserId, orgId, orgRole: 'org:member' });
    const res = await h.t.app.inject({
      method: 'GET',
      url: '/api/settings/automations',
      headers: { authorization: `Bearer ${member}` },
    });
    expect(res.statusCode).toBe(403);
    // Another organisation: the role of a membership is taken from the newest token.
    const admin = mintSessionToken({
      sub: h.clerkUserId,
      orgId: `org_${randomUUID()}`,
      orgRole: 'org:admin',
    });
    const ok = await h.t.app.inject({
      method: 'GET',
      url: '/api/settings/automations',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().data).toEqual([]); // the personal workspace's rules are not the org's
  });

  it('documents its routes in the OpenAPI document', async () => {
    const doc = (await h.t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.paths['/api/settings/automations/{id}/dry-run']).toBeDefined();
    expect(doc.paths['/api/settings/automations/replay']).toBeDefined();
  });
});
