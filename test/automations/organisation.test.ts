import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  automationRuns,
  externalLinks,
  inboxEvents,
  memberships,
  organisations,
  users,
} from '../../src/db/schema.ts';
import { signLinearBody } from '../../src/modules/providers/linear/linear-signature.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import { linearIssuePayload } from './fixtures.ts';

const LINEAR_KEY = 'lin_api_org_key';

/** An organisation workspace: assignee by email, the other action types, the loop guard. */
describe('automations in an organisation', () => {
  let t: TestApp;
  let linear: FakeLinear;
  let auth: Record<string, string>;
  let session: Record<string, string>;
  let orgId: string;
  let bobId: string;
  let ownerId: string;
  let containerId: string;
  let teamId: string;
  let webhookId: string;
  let secret: string;

  beforeAll(async () => {
    linear = await startFakeLinear({ tokens: [LINEAR_KEY] });
    t = await buildTestApp({
      env: {
        ...clerkEnv(),
        ...linear.env(),
        PUBLIC_BASE_URL: 'https://monoid.example',
        AUTOMATION_OWN_ACTOR_IDS: 'monoid-oauth-app',
      },
      overrides: { skipReconciler: true },
    });
    const db = t.app.database.db;
    const key = await createTestKey(t.app);
    auth = { authorization: `Bearer ${key.key}` };
    ownerId = key.userId;
    const orgClerkId = `org_${randomUUID()}`;
    const [org] = await db
      .insert(organisations)
      .values({ clerkId: orgClerkId, name: 'Acme' })
      .returning();
    orgId = org!.id;
    const [bob] = await db
      .insert(users)
      .values({ clerkId: `user_${randomUUID()}`, email: 'bob@example.com' })
      .returning();
    bobId = bob!.id;
    await db.insert(memberships).values([
      { userId: key.userId, organisationId: orgId, role: 'org:admin' },
      { userId: bobId, organisationId: orgId, role: 'org:member' },
    ]);
    session = {
      authorization: `Bearer ${mintSessionToken({ sub: key.clerkUserId, orgId: orgClerkId, orgRole: 'org:admin' })}`,
    };
    const container = await t.app.inject({
      method: 'POST',
      url: '/api/v1/containers',
      headers: auth,
      payload: { name: 'Eng', organisationId: orgId },
    });
    expect(container.statusCode, container.body).toBe(201);
    containerId = container.json().data._id;
    const workspace = { organisationId: orgId, userId: null };
    await t.app.providers.linear.connect.connectApiKey({
      workspace,
      userId: key.userId,
      apiKey: LINEAR_KEY,
    });
    teamId = linear.teams[0]!.id;
    await t.app.providers.linear.connect.linkContainer({
      workspace,
      userId: key.userId,
      containerId,
      teamId,
    });
    const hook = [...linear.webhooks.values()][0]!;
    webhookId = hook.id;
    secret = hook.secret!;
  });
  afterAll(async () => {
    await t.close();
    await linear.close();
  });

  const deliver = async (payload: Record<string, unknown>) => {
    const body = JSON.stringify({ ...payload, webhookId, webhookTimestamp: Date.now() });
    const res = await t.app.inject({
      method: 'POST',
      url: '/webhooks/linear',
      headers: {
        'content-type': 'application/json',
        'linear-delivery': randomUUID(),
        'linear-event': String(payload.type),
        'linear-signature': signLinearBody(body, secret),
      },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    await t.app.inboxWorker.drain();
  };
  const tasksOf = async (issueId: string) => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/api/v1/tasks?organisationId=${orgId}&limit=500`,
      headers: auth,
    });
    return (res.json().data as Array<Record<string, unknown>>).filter((x) =>
      (x.externalLinks as Array<{ externalId: string }>).some((l) => l.externalId === issueId),
    );
  };
  const rule = async (body: Record<string, unknown>) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/settings/automations',
      headers: session,
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data.id as string;
  };

  it('maps the Linear assignee to the organisation member with the same email', async () => {
    const id = randomUUID();
    await deliver(
      linearIssuePayload({
        id,
        teamId,
        assignee: { id: 'lin-bob', name: 'Bob', email: 'Bob@Example.COM' },
      }),
    );
    const [task] = await tasksOf(id);
    expect(task).toMatchObject({ assigneeId: bobId, organisationId: orgId, containerId });
    const stranger = randomUUID();
    await deliver(
      linearIssuePayload({
        id: stranger,
        teamId,
        assignee: { id: 'x', name: 'X', email: 'nobody@example.com' },
      }),
    );
    expect((await tasksOf(stranger))[0]?.assigneeId).toBeNull();
  });

  it('the sync creates nothing as a user whose membership ended: the event dead-letters', async () => {
    const db = t.app.database.db;
    const owner = and(eq(memberships.userId, ownerId), eq(memberships.organisationId, orgId));
    await db.update(memberships).set({ deletedAt: new Date() }).where(owner);
    try {
      const id = randomUUID();
      await deliver(linearIssuePayload({ id, teamId }));
      const made = await db
        .select({ id: externalLinks.entityId })
        .from(externalLinks)
        .where(eq(externalLinks.externalId, id));
      expect(made).toEqual([]);
      const [event] = await db.select().from(inboxEvents).where(eq(inboxEvents.entityId, id));
      expect(event).toMatchObject({ state: 'failed' });
      expect(event?.lastError).toContain('no longer a member');
    } finally {
      await db.update(memberships).set({ deletedAt: null }).where(owner);
    }
  });

  it('update_linked and complete_linked act on the items linked to the issue', async () => {
    await rule({
      name: 'Comments into notes',
      trigger: { source: 'linear', event: 'comment.created', scope: { teamId } },
      actions: [{ type: 'update_linked', task: { notes: 'Last comment: {{comment.body}}' } }],
    });
    await rule({
      name: 'Label done → complete',
      trigger: { source: 'linear', event: 'issue.updated', scope: { teamId } },
      conditions: { in: ['shipped', { var: 'changes.labelsAdded' }] },
      actions: [{ type: 'complete_linked' }],
    });
    const id = randomUUID();
    await deliver(linearIssuePayload({ id, teamId, updatedAt: '2026-11-27T10:00:00.000Z' }));
    await deliver({
      action: 'create',
      type: 'Comment',
      createdAt: new Date().toISOString(),
      data: { id: randomUUID(), body: 'LGTM', issueId: id, issue: { id, title: 'Fix', teamId } },
      actor: { id: 'u1', type: 'user', name: 'Ada' },
    });
    expect((await tasksOf(id))[0]?.notes).toBe('Last comment: LGTM');
    await deliver(
      linearIssuePayload({
        id,
        teamId,
        action: 'update',
        updatedAt: '2026-11-27T11:00:00.000Z',
        labels: [{ id: 'l-s', name: 'shipped' }],
        updatedFrom: { labelIds: [] },
      }),
    );
    // The sync rewrote the issue's fields (state unstarted → todo) and the rule completed it,
    // in that order within the event's transaction.
    expect((await tasksOf(id))[0]?.bucket).toBe('done');
  });

  it('create_container and create_project (found by name in the container just created)', async () => {
    await rule({
      name: 'Linear projects get their own container',
      trigger: { source: 'linear', event: 'project.created', scope: { teamId } },
      actions: [
        { type: 'create_container', container: { name: 'Linear: {{title}}' } },
        {
          type: 'create_project',
          project: { title: '{{title}}', status: 'active' },
          container: { name: 'Linear: {{title}}', createIfMissing: false },
        },
      ],
    });
    await deliver({
      action: 'create',
      type: 'Project',
      createdAt: new Date().toISOString(),
      data: {
        id: 'lp-1',
        name: 'Q1 Launch',
        state: 'planned',
        teamIds: [teamId],
        updatedAt: new Date().toISOString(),
      },
      actor: { id: 'u1', type: 'user', name: 'Ada' },
    });
    const containers = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/containers?organisationId=${orgId}`,
        headers: auth,
      })
    ).json().data as Array<{ _id: string; name: string; externalLinks: unknown[] }>;
    const made = containers.find((c) => c.name === 'Linear: Q1 Launch');
    expect(made?.externalLinks).toEqual([
      expect.objectContaining({ provider: 'linear', externalId: 'lp-1' }),
    ]);
    const projects = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/projects?containerId=${made?._id}`,
        headers: auth,
      })
    ).json().data;
    expect(projects).toEqual([expect.objectContaining({ title: 'Q1 Launch', status: 'active' })]);
    // The sync made the same Linear project a project of the linked container too.
    const synced = (
      await t.app.inject({
        method: 'GET',
        url: `/api/v1/projects?containerId=${containerId}`,
        headers: auth,
      })
    ).json().data;
    expect(synced).toEqual([expect.objectContaining({ title: 'Q1 Launch', status: 'active' })]);
  });

  it('loop guard: an event caused by our own integration identity runs no rule', async () => {
    const ruleId = await rule({
      name: 'Everything',
      trigger: { source: 'linear', event: 'issue.created', scope: { teamId } },
      actions: [
        {
          type: 'create_task',
          task: { title: 'copy of {{title}}' },
          container: { name: 'Copies' },
        },
      ],
    });
    const id = randomUUID();
    await deliver(linearIssuePayload({ id, teamId, actorId: 'monoid-oauth-app' }));
    const runs = await t.app.database.db
      .select()
      .from(automationRuns)
      .where(eq(automationRuns.automationId, ruleId));
    expect(runs).toEqual([expect.objectContaining({ status: 'skipped', stage: 'loop_guard' })]);
    expect((await tasksOf(id)).map((x) => x.title)).toEqual(['Fix the login bug']);
  });
});
