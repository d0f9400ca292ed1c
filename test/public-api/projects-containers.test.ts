import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertExternalLink } from '../../src/modules/external-links/external-links.service.ts';
import type { TestApp } from '../helpers/app.ts';
import {
  type ApiUser,
  buildApiTestApp,
  createApiUser,
  dataOf,
  seedOrganisation,
} from '../helpers/workspaces.ts';

interface Project {
  _id: string;
  title: string;
  status: string;
  containerId: string;
  category: { _id: string; name: string } | null;
  categoryId: string | null;
  labels: Array<{ _id: string }>;
  labelIds: string[];
  externalLinks: Array<{ provider: string; externalId: string }>;
  createdAt: number;
  updatedAt: number;
  description: string | null;
  organisationId: string | null;
}

describe('containers and projects', () => {
  let t: TestApp;
  let alice: ApiUser;
  let org: { id: string };

  beforeAll(async () => {
    t = await buildApiTestApp();
    alice = await createApiUser(t.app);
    org = await seedOrganisation(t.db.database, { members: [{ userId: alice.userId }] });
  });
  afterAll(async () => t.close());

  const container = async (body: Record<string, unknown>) =>
    dataOf<{ _id: string; organisationId: string | null }>(
      await alice.request('POST', '/api/v1/containers', body),
      201,
    );
  const project = async (body: Record<string, unknown>) =>
    dataOf<Project>(await alice.request('POST', '/api/v1/projects', body), 201);

  it('container round trip; null clears the description; delete with projects is a 409', async () => {
    const c = await container({ name: 'Work', description: 'd' });
    expect(c).toMatchObject({
      name: 'Work',
      description: 'd',
      organisationId: null,
      externalLinks: [],
    });
    const cleared = dataOf<{ description: string | null; name: string }>(
      await alice.request('PATCH', `/api/v1/containers/${c._id}`, { description: null }),
    );
    expect(cleared).toMatchObject({ name: 'Work', description: null });
    const p = await project({ title: 'P', containerId: c._id });
    const refused = await alice.request('DELETE', `/api/v1/containers/${c._id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('CONFLICT');
    dataOf(await alice.request('GET', `/api/v1/containers/${c._id}`));
    dataOf(await alice.request('DELETE', `/api/v1/projects/${p._id}`));
    expect(dataOf(await alice.request('DELETE', `/api/v1/containers/${c._id}`))).toEqual({
      _id: c._id,
      deleted: true,
    });
  });

  it('project joins its container’s workspace; category and labels expand', async () => {
    const c = await container({ name: 'Org', organisationId: org.id });
    expect(c.organisationId).toBe(org.id);
    const cat = dataOf<{ _id: string }>(
      await alice.request('POST', '/api/v1/categories', {
        name: 'Client',
        entityType: 'project',
        organisationId: org.id,
      }),
      201,
    );
    const label = dataOf<{ _id: string }>(
      await alice.request('POST', '/api/v1/labels', {
        name: 'Urgent',
        entityType: 'project',
        organisationId: org.id,
      }),
      201,
    );
    const p = await project({
      title: 'P',
      containerId: c._id,
      categoryId: cat._id,
      labelIds: [label._id],
      status: 'paused',
    });
    expect(p).toMatchObject({
      organisationId: org.id,
      status: 'paused',
      categoryId: cat._id,
      category: { _id: cat._id, name: 'Client', entityType: 'project' },
      labelIds: [label._id],
      labels: [{ _id: label._id, name: 'Urgent' }],
    });
    // A personal container is another workspace: moving there is a 400.
    const personal = await container({ name: 'Mine' });
    const move = await alice.request('PATCH', `/api/v1/projects/${p._id}`, {
      containerId: personal._id,
    });
    expect(move.statusCode).toBe(400);
    // A personal category on an org project: 400.
    const personalCat = dataOf<{ _id: string }>(
      await alice.request('POST', '/api/v1/categories', { name: 'x', entityType: 'project' }),
      201,
    );
    const badCat = await alice.request('PATCH', `/api/v1/projects/${p._id}`, {
      categoryId: personalCat._id,
    });
    expect(badCat.statusCode).toBe(400);
    const cleared = dataOf<Project>(
      await alice.request('PATCH', `/api/v1/projects/${p._id}`, {
        categoryId: null,
        labelIds: null,
        description: null,
      }),
    );
    expect(cleared).toMatchObject({ categoryId: null, category: null, labelIds: [], labels: [] });
    // Changing a category's entity type while in use would break its items: 409.
    await alice.request('PATCH', `/api/v1/projects/${p._id}`, { categoryId: cat._id });
    const retype = await alice.request('PATCH', `/api/v1/categories/${cat._id}`, {
      entityType: 'task',
    });
    expect(retype.statusCode).toBe(409);
    // Likewise a label in use by a project cannot become a task label.
    await alice.request('PATCH', `/api/v1/projects/${p._id}`, { labelIds: [label._id] });
    const relabel = await alice.request('PATCH', `/api/v1/labels/${label._id}`, {
      entityType: 'task',
    });
    expect(relabel.statusCode).toBe(409);
    // Missing container: 400 naming the field.
    const missing = await alice.request('POST', '/api/v1/projects', {
      title: 'x',
      containerId: '00000000-0000-4000-8000-000000000000',
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].path).toBe('body.containerId');
  });

  describe('project filters', () => {
    let u: ApiUser;
    const ids: Record<string, string> = {};
    let t0 = 0;
    let t1 = 0;
    beforeAll(async () => {
      u = await createApiUser(t.app);
      const c1 = dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/containers', { name: '1' }),
        201,
      );
      const c2 = dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/containers', { name: '2' }),
        201,
      );
      const cat = dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/categories', { name: 'c', entityType: 'project' }),
        201,
      );
      const lab = dataOf<{ _id: string }>(
        await u.request('POST', '/api/v1/labels', { name: 'l', entityType: 'project' }),
        201,
      );
      const mk = async (body: Record<string, unknown>) =>
        dataOf<Project>(await u.request('POST', '/api/v1/projects', body), 201);
      const a = await mk({ title: 'a', containerId: c1._id, status: 'active' });
      t0 = a.createdAt;
      await new Promise((r) => setTimeout(r, 5));
      const b = await mk({ title: 'b', containerId: c1._id, status: 'done', categoryId: cat._id });
      await new Promise((r) => setTimeout(r, 5));
      const c = await mk({
        title: 'c',
        containerId: c2._id,
        status: 'active',
        labelIds: [lab._id],
      });
      const d = await mk({ title: 'd', containerId: c2._id, status: 'backlog' });
      t1 = c.createdAt;
      Object.assign(ids, {
        c1: c1._id,
        c2: c2._id,
        cat: cat._id,
        lab: lab._id,
        a: a._id,
        b: b._id,
        c: c._id,
        d: d._id,
      });
      await upsertExternalLink(t.db.database.db, {
        provider: 'linear',
        externalId: 'ENG-1',
        url: 'https://linear.app/x/issue/ENG-1',
        title: 'Issue',
        entityType: 'project',
        entityId: a._id,
        containerId: c1._id,
      });
      await upsertExternalLink(t.db.database.db, {
        provider: 'notion',
        externalId: 'page-1',
        entityType: 'project',
        entityId: c._id,
        containerId: c2._id,
      });
    });
    const titles = async (q: string) =>
      dataOf<Project[]>(await u.request('GET', `/api/v1/projects?${q}`))
        .map((p) => p.title)
        .sort();

    it('status, container, category, label', async () => {
      expect(await titles('status=active')).toEqual(['a', 'c']);
      expect(await titles(`containerId=${ids.c1}`)).toEqual(['a', 'b']);
      expect(await titles(`categoryId=${ids.cat}`)).toEqual(['b']);
      expect(await titles(`labelId=${ids.lab}`)).toEqual(['c']);
      expect(await titles('organisationId=personal')).toEqual(['a', 'b', 'c', 'd']);
    });

    it('external links: hasExternalLink and externalLinkProvider', async () => {
      expect(await titles('hasExternalLink=true')).toEqual(['a', 'c']);
      expect(await titles('hasExternalLink=false')).toEqual(['b', 'd']);
      expect(await titles('externalLinkProvider=linear')).toEqual(['a']);
      expect(await titles('externalLinkProvider=notion&hasExternalLink=true')).toEqual(['c']);
      const a = dataOf<Project>(await u.request('GET', `/api/v1/projects/${ids.a}`));
      expect(a.externalLinks).toEqual([
        {
          provider: 'linear',
          externalId: 'ENG-1',
          url: 'https://linear.app/x/issue/ENG-1',
          title: 'Issue',
        },
      ]);
    });

    it('createdAt / updatedAt ranges and combinations', async () => {
      expect(await titles(`createdAtEq=${t0}`)).toEqual(['a']);
      expect(await titles(`createdAtGte=${t0 + 1}&createdAtLte=${t1}`)).toContain('b');
      expect(await titles(`createdAtLte=${t0}`)).toEqual(['a']);
      expect(await titles(`updatedAtGte=${t1}`)).toEqual(expect.arrayContaining(['c', 'd']));
      expect(await titles(`updatedAtLte=${t0}&status=active`)).toEqual(['a']);
      expect(await titles(`status=active&containerId=${ids.c2}&hasExternalLink=true`)).toEqual([
        'c',
      ]);
      expect((await u.request('GET', '/api/v1/projects?hasExternalLink=yes')).statusCode).toBe(400);
    });
  });
});
