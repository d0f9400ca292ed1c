import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKey } from '../helpers/api-keys.ts';
import type { TestApp } from '../helpers/app.ts';
import {
  type ApiUser,
  buildApiTestApp,
  clientFor,
  createApiUser,
  dataOf,
  seedOrganisation,
} from '../helpers/workspaces.ts';

// Security finding 4: a read,write key could take another member's task out of the
// organisation with PATCH organisationId (the owner then got 404), while DELETE needed `delete`.

type Item = { _id: string; organisationId: string | null };

describe('moving an item out of an organisation', () => {
  let t: TestApp;
  let admin: ApiUser;
  let member: ApiUser;
  let memberFull: ReturnType<typeof clientFor>;
  let org: { id: string };

  beforeAll(async () => {
    t = await buildApiTestApp();
    admin = await createApiUser(t.app);
    member = await createApiUser(t.app, { scopes: ['read', 'write'] });
    const full = await createTestKey(t.app, { clerkUserId: member.clerkUserId });
    memberFull = clientFor(t.app, full.key);
    org = await seedOrganisation(t.db.database, {
      members: [{ userId: admin.userId, role: 'org:admin' }, { userId: member.userId }],
    });
  });
  afterAll(async () => t.close());

  const adminTask = async () =>
    dataOf<Item>(
      await admin.request('POST', '/api/v1/tasks', { title: 'plan', organisationId: org.id }),
      201,
    );

  it('a write-only key cannot move another member’s task out (its DELETE is refused too)', async () => {
    const task = await adminTask();
    const moved = await member.request('PATCH', `/api/v1/tasks/${task._id}`, {
      organisationId: 'personal',
      title: 'mine now',
    });
    expect((await member.request('DELETE', `/api/v1/tasks/${task._id}`)).statusCode).toBe(403);
    // The owner still sees it, unchanged.
    const seen = dataOf<Item & { title: string }>(
      await admin.request('GET', `/api/v1/tasks/${task._id}`),
    );
    expect(seen).toMatchObject({ organisationId: org.id, title: 'plan' });
    expect(moved.statusCode).toBe(403);
    expect(moved.json().code).toBe('INSUFFICIENT_SCOPE');
    expect(moved.headers['www-authenticate']).toContain('scope="delete"');
  });

  it('with delete scope, a plain member still cannot move another member’s task out', async () => {
    const task = await adminTask();
    const res = await memberFull('PATCH', `/api/v1/tasks/${task._id}`, {
      organisationId: 'personal',
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
    // Nor by moving it into a personal container.
    const container = dataOf<Item>(
      await memberFull('POST', '/api/v1/containers', { name: 'mine' }),
      201,
    );
    const viaContainer = await memberFull('PATCH', `/api/v1/tasks/${task._id}`, {
      containerId: container._id,
    });
    expect(viaContainer.statusCode).toBe(403);
  });

  it('the creator (with delete scope) and an admin may move items out; members may move in', async () => {
    const own = dataOf<Item>(
      await memberFull('POST', '/api/v1/tasks', { title: 'own', organisationId: org.id }),
      201,
    );
    const mine = dataOf<Item>(
      await memberFull('PATCH', `/api/v1/tasks/${own._id}`, { organisationId: 'personal' }),
    );
    expect(mine.organisationId).toBeNull();
    // Into the organisation again: membership is enough (write scope).
    const back = dataOf<Item>(
      await member.request('PATCH', `/api/v1/tasks/${own._id}`, { organisationId: org.id }),
    );
    expect(back.organisationId).toBe(org.id);
    const adminMoves = dataOf<Item>(
      await admin.request('PATCH', `/api/v1/tasks/${own._id}`, { organisationId: 'personal' }),
    );
    expect(adminMoves.organisationId).toBeNull();
  });
});
