import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import {
  type ApiUser,
  buildApiTestApp,
  createApiUser,
  dataOf,
  seedOrganisation,
  setUserEmail,
} from '../helpers/workspaces.ts';

type Item = Record<string, unknown> & { _id: string };

describe('organisations, categories, labels, routine blocks, reviews, daily notes', () => {
  let t: TestApp;
  let alice: ApiUser;
  let bob: ApiUser;

  beforeAll(async () => {
    t = await buildApiTestApp();
    alice = await createApiUser(t.app);
    bob = await createApiUser(t.app);
  });
  afterAll(async () => t.close());

  describe('organisations', () => {
    it('create makes the caller admin; members see it; only admins rename or delete', async () => {
      const created = dataOf<Item>(
        await alice.request('POST', '/api/v1/organisations', { id: 'acme', name: 'Acme' }),
        201,
      );
      expect(created).toMatchObject({ id: 'acme', name: 'Acme' });
      expect(created).not.toHaveProperty('members');
      // External ids of API organisations are per creator (docs/identity.md).
      const dup = await alice.request('POST', '/api/v1/organisations', { id: 'acme', name: 'X' });
      expect(dup.statusCode).toBe(409);
      await setUserEmail(t.db.database, alice.userId, 'alice@example.com');
      const byExternal = dataOf<Item>(
        await alice.request(
          'GET',
          '/api/v1/organisations/acme?includeMembers=true&includePlan=true',
        ),
      );
      expect(byExternal).toMatchObject({
        _id: created._id,
        plan: null,
        members: [{ userId: alice.userId, role: 'org:admin', email: 'alice@example.com' }],
      });
      expect((await bob.request('GET', `/api/v1/organisations/${created._id}`)).statusCode).toBe(
        404,
      );
      // Bob becomes a plain member: he sees it, cannot rename or delete it (403).
      const member = await seedOrganisation(t.db.database, {
        members: [{ userId: alice.userId, role: 'org:admin' }, { userId: bob.userId }],
      });
      const listed = dataOf<Item[]>(await bob.request('GET', '/api/v1/organisations'));
      expect(listed.map((o) => o._id)).toEqual([member.id]);
      const rename = await bob.request('PATCH', `/api/v1/organisations/${member.id}`, {
        name: 'N',
      });
      expect(rename.statusCode).toBe(403);
      expect(rename.json().code).toBe('FORBIDDEN');
      expect((await bob.request('DELETE', `/api/v1/organisations/${member.id}`)).statusCode).toBe(
        403,
      );
      const renamed = dataOf<Item>(
        await alice.request('PATCH', `/api/v1/organisations/${member.id}`, { name: 'Renamed' }),
      );
      expect(renamed.name).toBe('Renamed');
      // Deleting takes the org (and its items) away from every member at once.
      const task = dataOf<Item>(
        await bob.request('POST', '/api/v1/tasks', { title: 't', organisationId: member.id }),
        201,
      );
      dataOf(await alice.request('DELETE', `/api/v1/organisations/${member.id}`));
      expect((await bob.request('GET', `/api/v1/tasks/${task._id}`)).statusCode).toBe(404);
      expect(dataOf<Item[]>(await bob.request('GET', '/api/v1/organisations'))).toEqual([]);
    });
  });

  describe('categories and labels', () => {
    it('round trip, entityType and organisationId filters, null clears color', async () => {
      const org = await seedOrganisation(t.db.database, { members: [{ userId: alice.userId }] });
      for (const path of ['categories', 'labels'] as const) {
        const a = dataOf<Item>(
          await alice.request('POST', `/api/v1/${path}`, {
            name: 'a',
            color: '#fff',
            entityType: 'task',
          }),
          201,
        );
        expect(a).toEqual({
          _id: a._id,
          name: 'a',
          color: '#fff',
          entityType: 'task',
          organisationId: null,
        });
        const b = dataOf<Item>(
          await alice.request('POST', `/api/v1/${path}`, {
            name: 'b',
            entityType: 'project',
            organisationId: org.id,
          }),
          201,
        );
        const names = async (q: string) =>
          dataOf<Item[]>(await alice.request('GET', `/api/v1/${path}?${q}`)).map((x) => x.name);
        expect(await names(`entityType=project&organisationId=${org.id}`)).toEqual(['b']);
        expect(await names('organisationId=personal&entityType=task')).toContain('a');
        expect(await names(`organisationId=${org.id}&entityType=task`)).toEqual([]);
        const cleared = dataOf<Item>(
          await alice.request('PATCH', `/api/v1/${path}/${a._id}`, { color: null, name: 'a2' }),
        );
        expect(cleared).toMatchObject({ color: null, name: 'a2' });
        dataOf(await alice.request('DELETE', `/api/v1/${path}/${b._id}`));
        expect((await alice.request('GET', `/api/v1/${path}/${b._id}`)).statusCode).toBe(404);
      }
    });
  });

  describe('routine blocks', () => {
    it('templates, overrides that store only changes, the 15-minute grid', async () => {
      const tpl = dataOf<Item>(
        await alice.request('POST', '/api/v1/routine_blocks', {
          dayOfWeek: 1,
          startTime: '09:00',
          endTime: '11:00',
          name: 'Deep Work',
          color: '#0ea5e9',
        }),
        201,
      );
      expect(tpl).toMatchObject({
        blockType: 'routine',
        templateId: null,
        date: null,
        dayOfWeek: 1,
      });
      const override = dataOf<Item>(
        await alice.request('POST', '/api/v1/routine_blocks', {
          templateId: tpl._id,
          date: '2026-12-07',
          endTime: '10:00',
        }),
        201,
      );
      expect(override).toMatchObject({
        templateId: tpl._id,
        date: '2026-12-07',
        startTime: null,
        endTime: '10:00',
        name: null,
        blockType: null,
        dayOfWeek: 1, // the date's, derived
      });
      const byDate = dataOf<Item[]>(
        await alice.request('GET', '/api/v1/routine_blocks?date=2026-12-07'),
      );
      expect(byDate.map((b) => b._id)).toEqual([override._id]);
      const byTemplate = dataOf<Item[]>(
        await alice.request('GET', `/api/v1/routine_blocks?templateId=${tpl._id}`),
      );
      expect(byTemplate.map((b) => b._id)).toEqual([override._id]);
      // The reference's example carries dayOfWeek with date and templateId: override fields
      // win, and a dayOfWeek that agrees with the date is accepted.
      const referenceExample = dataOf<Item>(
        await alice.request('POST', '/api/v1/routine_blocks', {
          templateId: tpl._id,
          date: '2026-12-14',
          dayOfWeek: 1,
          startTime: '09:30',
          endTime: '11:00',
          name: 'Deep Work (late start)',
        }),
        201,
      );
      expect(referenceExample).toMatchObject({
        templateId: tpl._id,
        date: '2026-12-14',
        dayOfWeek: 1,
        startTime: '09:30',
      });
      const contradiction = await alice.request('POST', '/api/v1/routine_blocks', {
        templateId: tpl._id,
        date: '2026-12-15',
        dayOfWeek: 1,
      });
      expect(contradiction.statusCode).toBe(400);
      expect(contradiction.json().errors.map((e: { path: string }) => e.path)).toEqual([
        'body.dayOfWeek',
        'body.date',
      ]);
      expect(contradiction.json().detail).toMatch(/dayOfWeek.*Monday.*2026-12-15.*Tuesday/);
      const patchContradiction = await alice.request(
        'PATCH',
        `/api/v1/routine_blocks/${referenceExample._id}`,
        { dayOfWeek: 3 },
      );
      expect(patchContradiction.statusCode).toBe(400);
      const bad = [
        { dayOfWeek: 1, startTime: '09:10', endTime: '10:00', name: 'x' },
        { dayOfWeek: 1, startTime: '09:00', endTime: '09:00', name: 'x' },
        { dayOfWeek: 1, startTime: '10:00', endTime: '09:00', name: 'x' },
        { dayOfWeek: 1, name: 'no times' },
        { date: '2026-12-07', name: 'override without template' },
        { templateId: tpl._id, date: '2026-12-08', startTime: '10:45' }, // 10:45 → 11:00 is fine...
      ];
      for (const body of bad.slice(0, 5)) {
        const res = await alice.request('POST', '/api/v1/routine_blocks', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().errors.length).toBeGreaterThan(0);
      }
      // ...but an override starting 11:00 against the template's 11:00 end is too short.
      const tooShort = await alice.request('POST', '/api/v1/routine_blocks', {
        templateId: tpl._id,
        date: '2026-12-08',
        startTime: '11:00',
      });
      expect(tooShort.statusCode).toBe(400);
      const ok = await alice.request('POST', '/api/v1/routine_blocks', bad[5]);
      expect(ok.statusCode).toBe(201);
      const cat = dataOf<Item>(
        await alice.request('POST', '/api/v1/categories', {
          name: 'r',
          entityType: 'routine_block',
        }),
        201,
      );
      const withCat = dataOf<Item>(
        await alice.request('PATCH', `/api/v1/routine_blocks/${tpl._id}`, {
          categoryId: cat._id,
          color: null,
        }),
      );
      expect(withCat).toMatchObject({ categoryId: cat._id, color: null });
      const byCat = dataOf<Item[]>(
        await alice.request('GET', `/api/v1/routine_blocks?categoryId=${cat._id}`),
      );
      expect(byCat.map((b) => b._id)).toEqual([tpl._id]);
      // Deleting the template removes its overrides.
      dataOf(await alice.request('DELETE', `/api/v1/routine_blocks/${tpl._id}`));
      expect(
        (await alice.request('GET', `/api/v1/routine_blocks/${override._id}`)).statusCode,
      ).toBe(404);
    });
  });

  describe('reviews', () => {
    it('one per user, date and type (409); filters by date and type', async () => {
      const r = dataOf<Item>(
        await alice.request('POST', '/api/v1/reviews', {
          date: '2026-11-27',
          type: 'daily',
          wakeTime: '06:45',
        }),
        201,
      );
      expect(r).toMatchObject({
        date: '2026-11-27',
        type: 'daily',
        wakeTime: '06:45',
        sleepTime: null,
      });
      const dup = await alice.request('POST', '/api/v1/reviews', {
        date: '2026-11-27',
        type: 'daily',
      });
      expect(dup.statusCode).toBe(409);
      // Another user, or another type, is not a duplicate.
      dataOf(
        await bob.request('POST', '/api/v1/reviews', { date: '2026-11-27', type: 'daily' }),
        201,
      );
      const weekly = dataOf<Item>(
        await alice.request('POST', '/api/v1/reviews', { date: '2026-11-27', type: 'weekly' }),
        201,
      );
      const list = async (q: string) =>
        dataOf<Item[]>(await alice.request('GET', `/api/v1/reviews?${q}`)).map((x) => x._id);
      expect((await list('date=2026-11-27')).sort()).toEqual([r._id, weekly._id].sort());
      expect(await list('date=2026-11-27&type=weekly')).toEqual([weekly._id]);
      const clash = await alice.request('PATCH', `/api/v1/reviews/${weekly._id}`, {
        type: 'daily',
      });
      expect(clash.statusCode).toBe(409);
      const cleared = dataOf<Item>(
        await alice.request('PATCH', `/api/v1/reviews/${r._id}`, { wakeTime: null }),
      );
      expect(cleared.wakeTime).toBeNull();
    });
  });

  describe('daily notes', () => {
    it('keyed by date: 409 on duplicates, dates filter repeated or comma-separated', async () => {
      for (const date of ['2026-11-01', '2026-11-02', '2026-11-03']) {
        dataOf(await alice.request('POST', '/api/v1/daily_notes', { date, content: date }), 201);
      }
      const dup = await alice.request('POST', '/api/v1/daily_notes', { date: '2026-11-01' });
      expect(dup.statusCode).toBe(409);
      const got = dataOf<Item>(await alice.request('GET', '/api/v1/daily_notes/2026-11-02'));
      expect(got).toMatchObject({ date: '2026-11-02', content: '2026-11-02' });
      const dates = async (q: string) =>
        dataOf<Item[]>(await alice.request('GET', `/api/v1/daily_notes?${q}`))
          .map((x) => x.date)
          .sort();
      expect(await dates('dates=2026-11-01,2026-11-03')).toEqual(['2026-11-01', '2026-11-03']);
      expect(await dates('dates=2026-11-01&dates=2026-11-02')).toEqual([
        '2026-11-01',
        '2026-11-02',
      ]);
      const cleared = dataOf<Item>(
        await alice.request('PATCH', '/api/v1/daily_notes/2026-11-02', { content: null }),
      );
      expect(cleared.content).toBeNull();
      expect((await alice.request('GET', '/api/v1/daily_notes/2026-11-09')).statusCode).toBe(404);
      expect((await bob.request('GET', '/api/v1/daily_notes/2026-11-02')).statusCode).toBe(404);
      const del = dataOf<Item>(await alice.request('DELETE', '/api/v1/daily_notes/2026-11-02'));
      expect(del).toEqual({ _id: got._id, deleted: true });
    });
  });
});
