import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { type ApiUser, buildApiTestApp, createApiUser, dataOf } from '../helpers/workspaces.ts';

interface Tagged {
  _id: string;
  categoryId: string | null;
  labelIds: string[];
  labels?: Array<{ _id: string }>;
  category?: { _id: string } | null;
}

/**
 * What the modules that reference categories and labels answer for them (their
 * `*.references.ts`, wired in planning/): every holder counts for "in use", and deleting a tag
 * takes it off every kind of item.
 */
describe('tag holders: in use, and what a delete does to the items', () => {
  let t: TestApp;
  let alice: ApiUser;
  let containerId: string;

  beforeAll(async () => {
    t = await buildApiTestApp();
    alice = await createApiUser(t.app);
    containerId = dataOf<{ _id: string }>(
      await alice.request('POST', '/api/v1/containers', { name: 'C' }),
      201,
    )._id;
  });
  afterAll(async () => t.close());

  const create = async <T = { _id: string }>(path: string, body: Record<string, unknown>) =>
    dataOf<T>(await alice.request('POST', `/api/v1/${path}`, body), 201);

  it('a category used by a routine template can become a block category, not a task one', async () => {
    const cat = await create('categories', { name: 'Focus', entityType: 'routine_template' });
    await create('routine_blocks', {
      dayOfWeek: 2,
      startTime: '09:00',
      endTime: '10:00',
      name: 'Focus',
      categoryId: cat._id,
    });
    const toTask = await alice.request('PATCH', `/api/v1/categories/${cat._id}`, {
      entityType: 'task',
    });
    expect(toTask.statusCode).toBe(409);
    expect(toTask.json()).toMatchObject({ code: 'CONFLICT' });
    const toBlock = await alice.request('PATCH', `/api/v1/categories/${cat._id}`, {
      entityType: 'routine_block',
    });
    expect(dataOf<{ entityType: string }>(toBlock).entityType).toBe('routine_block');
  });

  it('a category used by a task cannot become a project category; unused, it can', async () => {
    const cat = await create('categories', { name: 'Admin', entityType: 'task' });
    const task = await create<Tagged>('tasks', { title: 't', categoryId: cat._id });
    const refused = await alice.request('PATCH', `/api/v1/categories/${cat._id}`, {
      entityType: 'project',
    });
    expect(refused.statusCode).toBe(409);
    dataOf(await alice.request('PATCH', `/api/v1/tasks/${task._id}`, { categoryId: null }));
    const moved = await alice.request('PATCH', `/api/v1/categories/${cat._id}`, {
      entityType: 'project',
    });
    expect(dataOf<{ entityType: string }>(moved).entityType).toBe('project');
  });

  it('deleting a label takes it off projects and tasks; deleting a category clears it', async () => {
    const projectLabel = await create('labels', { name: 'Client', entityType: 'project' });
    const keep = await create('labels', { name: 'Keep', entityType: 'project' });
    const taskLabel = await create('labels', { name: 'Waiting', entityType: 'task' });
    const projectCategory = await create('categories', { name: 'Ops', entityType: 'project' });
    const project = await create<Tagged>('projects', {
      title: 'P',
      containerId,
      categoryId: projectCategory._id,
      labelIds: [projectLabel._id, keep._id],
    });
    const task = await create<Tagged>('tasks', { title: 'T', labelIds: [taskLabel._id] });

    dataOf(await alice.request('DELETE', `/api/v1/labels/${projectLabel._id}`));
    dataOf(await alice.request('DELETE', `/api/v1/labels/${taskLabel._id}`));
    dataOf(await alice.request('DELETE', `/api/v1/categories/${projectCategory._id}`));

    const p = dataOf<Tagged>(await alice.request('GET', `/api/v1/projects/${project._id}`));
    expect(p).toMatchObject({ labelIds: [keep._id], categoryId: null, category: null });
    expect(p.labels?.map((l) => l._id)).toEqual([keep._id]);
    const tk = dataOf<Tagged>(await alice.request('GET', `/api/v1/tasks/${task._id}`));
    expect(tk.labelIds).toEqual([]);
    const gone = await alice.request('GET', `/api/v1/labels/${projectLabel._id}`);
    expect(gone.statusCode).toBe(404);
  });
});
