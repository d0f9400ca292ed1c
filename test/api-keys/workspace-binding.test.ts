import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, securityEvents } from '../../src/db/schema.ts';
import type { TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken, signClerkWebhook } from '../helpers/clerk.ts';
import {
  type ApiUser,
  buildApiTestApp,
  createApiUser,
  dataOf,
  seedOrganisation,
} from '../helpers/workspaces.ts';

type Item = { _id: string; organisationId?: string | null; date?: string };

/**
 * Workspace-bound keys, over every /api/v1 resource: a key bound to one workspace lists only
 * that workspace, gets 404 for items elsewhere, and 403 KEY_WORKSPACE_RESTRICTED when it asks
 * to write or filter elsewhere. The unbound key of the same user sees everything.
 */
describe('workspace-bound keys', () => {
  let t: TestApp;
  let owner: ApiUser; // unbound: seeds both workspaces
  let orgKey: ApiUser; // bound to organisation A
  let personalKey: ApiUser; // bound to the personal workspace
  let orgA: { id: string; clerkId: string };
  let orgB: { id: string; clerkId: string };
  let n = 0;
  const date = () => `2031-02-${String((n++ % 28) + 1).padStart(2, '0')}`;

  const restricted = (res: LightMyRequestResponse, binding: string) => {
    expect(res.statusCode, res.body).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body.code).toBe('KEY_WORKSPACE_RESTRICTED');
    expect(body.detail).toContain(binding);
  };

  const refusedElsewhere = (
    r: { elsewhere?: 'unknown-reference' },
    res: LightMyRequestResponse,
    binding: string,
  ) => {
    if (r.elsewhere === 'unknown-reference') {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().errors[0].path).toBe('body.containerId');
    } else {
      restricted(res, binding);
    }
  };

  beforeAll(async () => {
    t = await buildApiTestApp(clerkEnv() as Record<string, string>);
    owner = await createApiUser(t.app);
    orgA = await seedOrganisation(t.db.database, {
      name: 'A',
      members: [{ userId: owner.userId, role: 'org:member' }],
    });
    orgB = await seedOrganisation(t.db.database, {
      name: 'B',
      members: [{ userId: owner.userId, role: 'org:admin' }],
    });
    orgKey = await createApiUser(t.app, { clerkUserId: owner.clerkUserId, workspace: orgA.id });
    personalKey = await createApiUser(t.app, {
      clerkUserId: owner.clerkUserId,
      workspace: 'personal',
    });
  });
  afterAll(async () => t.close());

  /** Workspace-scoped resources: a create body for a workspace (undefined org = personal). */
  const scoped: Array<{
    path: string;
    create: (org: string | undefined) => Promise<Record<string, unknown>>;
    /**
     * Projects take their workspace from their container: a container in another workspace
     * is one the key cannot see, so it is an unknown reference (400), as for any other user.
     */
    elsewhere?: 'unknown-reference';
  }> = [
    { path: 'containers', create: async (org) => ({ name: 'C', organisationId: org }) },
    {
      path: 'projects',
      create: async (org) => {
        const c = dataOf<Item>(
          await owner.request('POST', '/api/v1/containers', { name: 'PC', organisationId: org }),
          201,
        );
        return { title: 'P', containerId: c._id };
      },
      elsewhere: 'unknown-reference',
    },
    { path: 'tasks', create: async (org) => ({ title: 'T', organisationId: org }) },
    {
      path: 'categories',
      create: async (org) => ({ name: `Cat${n++}`, entityType: 'task', organisationId: org }),
    },
    {
      path: 'labels',
      create: async (org) => ({ name: `L${n++}`, entityType: 'task', organisationId: org }),
    },
    {
      path: 'routine_blocks',
      create: async (org) => ({
        dayOfWeek: (n++ % 7) as number,
        startTime: '07:00',
        endTime: '08:00',
        name: 'Block',
        organisationId: org,
      }),
    },
  ];

  for (const r of scoped) {
    describe(`/api/v1/${r.path}`, () => {
      let inPersonal: Item;
      let inA: Item;
      let inB: Item;
      beforeAll(async () => {
        inPersonal = dataOf<Item>(
          await owner.request('POST', `/api/v1/${r.path}`, await r.create(undefined)),
          201,
        );
        inA = dataOf<Item>(
          await owner.request('POST', `/api/v1/${r.path}`, await r.create(orgA.id)),
          201,
        );
        inB = dataOf<Item>(
          await owner.request('POST', `/api/v1/${r.path}`, await r.create(orgB.id)),
          201,
        );
      });

      it('the unbound key is unchanged: it sees all three workspaces', async () => {
        const ids = dataOf<Item[]>(await owner.request('GET', `/api/v1/${r.path}?limit=500`)).map(
          (i) => i._id,
        );
        expect(ids).toEqual(expect.arrayContaining([inPersonal._id, inA._id, inB._id]));
      });

      it('an organisation-bound key lists, reads and writes only its organisation', async () => {
        const list = dataOf<Item[]>(await orgKey.request('GET', `/api/v1/${r.path}?limit=500`));
        expect(list.map((i) => i._id)).toContain(inA._id);
        expect(list.every((i) => i.organisationId === orgA.id)).toBe(true);
        expect((await orgKey.request('GET', `/api/v1/${r.path}/${inA._id}`)).statusCode).toBe(200);
        for (const other of [inPersonal, inB]) {
          expect((await orgKey.request('GET', `/api/v1/${r.path}/${other._id}`)).statusCode).toBe(
            404,
          );
          expect(
            (await orgKey.request('PATCH', `/api/v1/${r.path}/${other._id}`, {})).statusCode,
          ).toBe(404);
          expect(
            (await orgKey.request('DELETE', `/api/v1/${r.path}/${other._id}`)).statusCode,
          ).toBe(404);
        }
        // Filters naming another workspace are refused.
        restricted(
          await orgKey.request('GET', `/api/v1/${r.path}?organisationId=personal`),
          orgA.id,
        );
        restricted(
          await orgKey.request('GET', `/api/v1/${r.path}?organisationId=${orgB.id}`),
          orgA.id,
        );
        restricted(
          await orgKey.request('GET', `/api/v1/${r.path}?organisationId=${orgB.clerkId}`),
          orgA.id,
        );
        const filtered = dataOf<Item[]>(
          await orgKey.request('GET', `/api/v1/${r.path}?organisationId=${orgA.clerkId}`),
        );
        expect(filtered.map((i) => i._id)).toContain(inA._id);
        // Creating elsewhere (personal by default, or another organisation) is refused.
        const before = dataOf<Item[]>(await owner.request('GET', `/api/v1/${r.path}?limit=500`));
        for (const elsewhere of [undefined, orgB.id]) {
          const res = await orgKey.request('POST', `/api/v1/${r.path}`, await r.create(elsewhere));
          refusedElsewhere(r, res, orgA.id);
        }
        const after = dataOf<Item[]>(await owner.request('GET', `/api/v1/${r.path}?limit=500`));
        // Nothing was written (projects: the container the test made is the owner's).
        expect(after.length).toBe(before.length);
        // Creating in its own workspace works.
        const created = dataOf<Item>(
          await orgKey.request('POST', `/api/v1/${r.path}`, await r.create(orgA.id)),
          201,
        );
        expect(created.organisationId).toBe(orgA.id);
      });

      it('a personal-bound key lists, reads and writes only the personal workspace', async () => {
        const list = dataOf<Item[]>(
          await personalKey.request('GET', `/api/v1/${r.path}?limit=500`),
        );
        expect(list.map((i) => i._id)).toContain(inPersonal._id);
        expect(list.every((i) => i.organisationId === null)).toBe(true);
        for (const other of [inA, inB]) {
          expect(
            (await personalKey.request('GET', `/api/v1/${r.path}/${other._id}`)).statusCode,
          ).toBe(404);
          expect(
            (await personalKey.request('DELETE', `/api/v1/${r.path}/${other._id}`)).statusCode,
          ).toBe(404);
        }
        restricted(
          await personalKey.request('GET', `/api/v1/${r.path}?organisationId=${orgA.id}`),
          'personal',
        );
        refusedElsewhere(
          r,
          await personalKey.request('POST', `/api/v1/${r.path}`, await r.create(orgA.id)),
          'personal',
        );
        expect(
          (await personalKey.request('POST', `/api/v1/${r.path}`, await r.create(undefined)))
            .statusCode,
        ).toBe(201);
      });
    });
  }

  it('moving an item to another workspace in a PATCH body is refused', async () => {
    const task = dataOf<Item>(
      await orgKey.request('POST', '/api/v1/tasks', { title: 'mine', organisationId: orgA.id }),
      201,
    );
    for (const organisationId of ['personal', null, orgB.id]) {
      restricted(
        await orgKey.request('PATCH', `/api/v1/tasks/${task._id}`, { organisationId }),
        orgA.id,
      );
    }
  });

  it('personal-only resources (reviews, daily notes): an organisation-bound key sees none and cannot write', async () => {
    const review = dataOf<Item>(
      await owner.request('POST', '/api/v1/reviews', { date: date(), type: 'daily' }),
      201,
    );
    const note = dataOf<Item>(
      await owner.request('POST', '/api/v1/daily_notes', { date: date(), content: 'x' }),
      201,
    );
    expect(dataOf<Item[]>(await orgKey.request('GET', '/api/v1/reviews'))).toEqual([]);
    expect(dataOf<Item[]>(await orgKey.request('GET', '/api/v1/daily_notes'))).toEqual([]);
    expect((await orgKey.request('GET', `/api/v1/reviews/${review._id}`)).statusCode).toBe(404);
    expect((await orgKey.request('PATCH', `/api/v1/reviews/${review._id}`, {})).statusCode).toBe(
      404,
    );
    expect((await orgKey.request('DELETE', `/api/v1/reviews/${review._id}`)).statusCode).toBe(404);
    expect((await orgKey.request('GET', `/api/v1/daily_notes/${note.date}`)).statusCode).toBe(404);
    expect((await orgKey.request('DELETE', `/api/v1/daily_notes/${note.date}`)).statusCode).toBe(
      404,
    );
    restricted(
      await orgKey.request('POST', '/api/v1/reviews', { date: date(), type: 'daily' }),
      orgA.id,
    );
    restricted(await orgKey.request('POST', '/api/v1/daily_notes', { date: date() }), orgA.id);
    // The personal-bound key works with them as the unbound key does.
    expect(
      dataOf<Item[]>(await personalKey.request('GET', '/api/v1/reviews')).map((i) => i._id),
    ).toContain(review._id);
    expect(
      (await personalKey.request('POST', '/api/v1/reviews', { date: date(), type: 'daily' }))
        .statusCode,
    ).toBe(201);
  });

  it('organisations: a bound key lists and reads only its own, and cannot create one', async () => {
    const list = dataOf<Item[]>(await orgKey.request('GET', '/api/v1/organisations'));
    expect(list.map((o) => o._id)).toEqual([orgA.id]);
    expect((await orgKey.request('GET', `/api/v1/organisations/${orgB.id}`)).statusCode).toBe(404);
    expect(dataOf<Item[]>(await personalKey.request('GET', '/api/v1/organisations'))).toEqual([]);
    restricted(
      await orgKey.request('POST', '/api/v1/organisations', { id: 'team_x', name: 'X' }),
      orgA.id,
    );
    restricted(
      await personalKey.request('POST', '/api/v1/organisations', { id: 'team_y', name: 'Y' }),
      'personal',
    );
    const all = dataOf<Item[]>(await owner.request('GET', '/api/v1/organisations'));
    expect(all.map((o) => o._id).sort()).toEqual([orgA.id, orgB.id].sort());
  });

  it('GET /api/v1/me shows the binding and only the organisations the key reaches', async () => {
    const me = dataOf<{
      key: { workspace: string | null };
      organisations: Array<{ _id: string }>;
    }>(await orgKey.request('GET', '/api/v1/me'));
    expect(me.key.workspace).toBe(orgA.id);
    expect(me.organisations.map((o) => o._id)).toEqual([orgA.id]);
    const mine = dataOf<{ key: { workspace: string | null }; organisations: unknown[] }>(
      await personalKey.request('GET', '/api/v1/me'),
    );
    expect(mine.key.workspace).toBe('personal');
    expect(mine.organisations).toEqual([]);
    const unbound = dataOf<{ key: { workspace: string | null }; organisations: unknown[] }>(
      await owner.request('GET', '/api/v1/me'),
    );
    expect(unbound.key.workspace).toBeNull();
    expect(unbound.organisations).toHaveLength(2);
  });

  describe('settings API', () => {
    const session = () => ({
      authorization: `Bearer ${mintSessionToken({ sub: owner.clerkUserId })}`,
    });
    const create = (body: Record<string, unknown>) =>
      t.app.inject({
        method: 'POST',
        url: '/api/settings/api-keys',
        headers: session(),
        payload: { name: 'bound', scopes: ['read'], ...body },
      });

    it('creates bound keys (personal, organisation by _id or external id) and lists the binding', async () => {
      const personal = dataOf<{ id: string; workspace: string | null; key: string }>(
        await create({ workspace: 'personal' }),
        201,
      );
      expect(personal.workspace).toBe('personal');
      const byClerkId = dataOf<{ id: string; workspace: string | null }>(
        await create({ workspace: orgA.clerkId }),
        201,
      );
      expect(byClerkId.workspace).toBe(orgA.id);
      const unbound = dataOf<{ workspace: string | null }>(await create({}), 201);
      expect(unbound.workspace).toBeNull();
      const list = dataOf<Array<{ id: string; workspace: string | null }>>(
        await t.app.inject({ url: '/api/settings/api-keys', headers: session() }),
      );
      expect(list.find((k) => k.id === byClerkId.id)?.workspace).toBe(orgA.id);
      // Recorded in the security log, in the organisation's log too.
      const [event] = await t.db.database.db
        .select()
        .from(securityEvents)
        .where(eq(securityEvents.targetId, byClerkId.id));
      expect(event).toMatchObject({
        action: 'api_key.created',
        userId: owner.userId,
        actorUserId: owner.userId,
        organisationId: orgA.id,
      });
    });

    it('refuses an organisation the creator does not belong to (400, nothing written)', async () => {
      const stranger = await seedOrganisation(t.db.database, { name: 'S', members: [] });
      const before = await t.db.database.db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.userId, owner.userId));
      for (const workspace of [stranger.id, stranger.clerkId, 'org_nonexistent', 'everything']) {
        const res = await create({ workspace });
        expect(res.statusCode).toBe(400);
        expect(res.json().errors[0].path).toBe('body.workspace');
      }
      const after = await t.db.database.db
        .select()
        .from(apiKeys)
        .where(eq(apiKeys.userId, owner.userId));
      expect(after.length).toBe(before.length);
    });
  });

  it("membership end: the org-bound key stops working and is listed as revoked with the reason; the user's other keys keep working", async () => {
    const member = await createApiUser(t.app);
    const org = await seedOrganisation(t.db.database, {
      name: 'M',
      members: [{ userId: member.userId }],
    });
    const bound = await createApiUser(t.app, {
      clerkUserId: member.clerkUserId,
      workspace: org.id,
    });
    expect((await bound.request('GET', '/api/v1/me')).statusCode).toBe(200); // warm in cache
    const { headers, payload } = signClerkWebhook({
      type: 'organizationMembership.deleted',
      data: {
        id: 'orgmem_1',
        role: 'org:member',
        organization: { id: org.clerkId, name: 'M' },
        public_user_data: { user_id: member.clerkUserId },
      },
    });
    const hook = await t.app.inject({ method: 'POST', url: '/webhooks/clerk', headers, payload });
    expect(hook.statusCode, hook.body).toBe(200);

    const refused = await bound.request('GET', '/api/v1/tasks');
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('API_KEY_REVOKED');
    const [row] = await t.db.database.db.select().from(apiKeys).where(eq(apiKeys.id, bound.keyId));
    expect(row?.revokedAt).not.toBeNull();
    expect(row?.revokeReason).toBe('organisation membership ended');
    const list = dataOf<Array<{ id: string; status: string; revokeReason: string | null }>>(
      await t.app.inject({
        url: '/api/settings/api-keys',
        headers: { authorization: `Bearer ${mintSessionToken({ sub: member.clerkUserId })}` },
      }),
    );
    expect(list.find((k) => k.id === bound.keyId)).toMatchObject({
      status: 'revoked',
      revokeReason: 'organisation membership ended',
    });
    const [event] = await t.db.database.db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.targetId, bound.keyId));
    expect(event).toMatchObject({ action: 'api_key.revoked', cause: 'membership_end' });
    // The unbound key of the same user is untouched.
    expect((await member.request('GET', '/api/v1/me')).statusCode).toBe(200);
  });

  it('a missed membership-end hook still stops the key on its next request', async () => {
    const member = await createApiUser(t.app);
    const org = await seedOrganisation(t.db.database, {
      name: 'N',
      members: [{ userId: member.userId }],
    });
    const bound = await createApiUser(t.app, {
      clerkUserId: member.clerkUserId,
      workspace: org.id,
    });
    expect((await bound.request('GET', '/api/v1/tasks')).statusCode).toBe(200);
    const { endMembership } = await import('../helpers/workspaces.ts');
    await endMembership(t.db.database, { userId: member.userId, organisationId: org.id });
    const res = await bound.request('GET', '/api/v1/tasks');
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('API_KEY_REVOKED');
  });
});
