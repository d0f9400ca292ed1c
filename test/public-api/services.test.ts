import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/modules/idempotency/idempotency.hooks.ts';
import {
  createContainer,
  createProject,
  createTask,
  findByExternalLink,
  getTask,
  loadActor,
  updateTask,
  upsertExternalLink,
} from '../../src/modules/planning/planning.services.ts';
import { timeErrors } from '../../src/modules/routine-blocks/routine-blocks.rules.ts';
import type { TestApp } from '../helpers/app.ts';
import { buildApiTestApp, createApiUser, seedOrganisation } from '../helpers/workspaces.ts';

describe('pure rules', () => {
  it('canonicalJson ignores key order and undefined, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });

  it('routine block times: 15-minute grid, at least 15 minutes', () => {
    expect(timeErrors('09:00', '09:15')).toEqual([]);
    expect(timeErrors('09:05', '10:00').map((e) => e.path)).toEqual(['startTime']);
    expect(timeErrors('09:00', '10:01').map((e) => e.path)).toEqual(['endTime']);
    expect(timeErrors('09:00', '09:00')).toHaveLength(1);
    expect(timeErrors('10:00', '09:00')).toHaveLength(1);
    expect(timeErrors(null, '09:00')).toEqual([]);
  });
});

/** How the automation engine uses the services: inside its own transaction, as a user. */
describe('services inside a caller’s transaction', () => {
  let t: TestApp;
  let userId: string;
  let orgId: string;
  beforeAll(async () => {
    t = await buildApiTestApp();
    userId = (await createApiUser(t.app)).userId;
    orgId = (await seedOrganisation(t.db.database, { members: [{ userId }] })).id;
  });
  afterAll(async () => t.close());

  it('creates container → project → task with external links, all committed together', async () => {
    const db = t.db.database.db;
    const created = await db.transaction(async (tx) => {
      const actor = await loadActor(tx, userId);
      const container = await createContainer(tx, actor, {
        name: 'Linear ENG',
        organisationId: orgId,
      });
      await upsertExternalLink(tx, {
        provider: 'linear',
        externalId: 'team-eng',
        entityType: 'container',
        entityId: container._id,
        containerId: container._id,
      });
      const project = await createProject(tx, actor, { title: 'Q1', containerId: container._id });
      const task = await createTask(tx, actor, {
        title: 'ENG-7',
        projectId: project._id,
        bucket: 'todo',
      });
      await upsertExternalLink(tx, {
        provider: 'linear',
        externalId: 'issue-7',
        url: 'https://linear.app/x/issue/ENG-7',
        title: 'ENG-7',
        entityType: 'task',
        entityId: task._id,
        containerId: container._id,
      });
      return { container, task };
    });
    const found = await findByExternalLink(db, {
      provider: 'linear',
      externalId: 'issue-7',
      containerId: created.container._id,
    });
    expect(found).toMatchObject({ entityType: 'task', entityId: created.task._id });
    const actor = await loadActor(db, userId);
    const task = await getTask(db, actor, created.task._id);
    expect(task).toMatchObject({ organisationId: orgId, containerId: created.container._id });
    expect(task.externalLinks).toEqual([
      {
        provider: 'linear',
        externalId: 'issue-7',
        url: 'https://linear.app/x/issue/ENG-7',
        title: 'ENG-7',
      },
    ]);
    // A state change from Linear: bucket done sets doneAt.
    const done = await updateTask(db, actor, task._id, { bucket: 'done' });
    expect(done.doneAt).not.toBeNull();
  });

  it('a rejected call inside the transaction rolls back only with it (savepoint)', async () => {
    const db = t.db.database.db;
    const actor = await loadActor(db, userId);
    const result = await db.transaction(async (tx) => {
      const ok = await createTask(tx, actor, { title: 'kept' });
      await expect(
        createTask(tx, actor, { title: 'bad', projectId: '00000000-0000-4000-8000-000000000000' }),
      ).rejects.toMatchObject({ status: 400 });
      return ok;
    });
    expect((await getTask(db, actor, result._id)).title).toBe('kept');
  });
});
