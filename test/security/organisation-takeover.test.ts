import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken, signClerkWebhook } from '../helpers/clerk.ts';
import { type ApiUser, buildApiTestApp, createApiUser, dataOf } from '../helpers/workspaces.ts';

// Security findings 1 (organisation id squatting, High) and 7 (UUID-shaped external ids).
type Item = { _id: string; id: string; name: string; members?: Array<{ userId: string }> };

const orgData = (id: string) => ({
  id,
  object: 'organization',
  name: 'Real Org',
  slug: 'real-org',
  image_url: null,
  public_metadata: {},
  created_at: 1_700_000_000_000,
});

describe('organisations created through the API cannot take a Clerk organisation', () => {
  let t: TestApp;
  let attacker: ApiUser;
  let victim: ApiUser;

  beforeAll(async () => {
    t = await buildApiTestApp(clerkEnv() as Record<string, string>);
    attacker = await createApiUser(t.app, { scopes: ['read', 'write'] });
    victim = await createApiUser(t.app, { clerkUserId: 'user_victim' });
  });
  afterAll(async () => t.close());

  const deliver = (type: string, data: Record<string, unknown>) => {
    const signed = signClerkWebhook({ type, data });
    return t.app.inject({
      method: 'POST',
      url: '/webhooks/clerk',
      headers: signed.headers,
      payload: signed.payload,
    });
  };

  it('API org first, then Clerk events, then a session: the squatter never gets in', async () => {
    // 1. The attacker claims a Clerk id Clerk has not announced yet.
    const squat = await attacker.request('POST', '/api/v1/organisations', {
      id: 'org_future',
      name: 'mine',
    });

    // 2. Clerk announces the organisation and its real member.
    expect((await deliver('organization.created', orgData('org_future'))).statusCode).toBe(200);
    const membership = await deliver('organizationMembership.created', {
      id: 'orgmem_victim_future',
      object: 'organization_membership',
      role: 'org:admin',
      permissions: [],
      organization: orgData('org_future'),
      public_user_data: { user_id: 'user_victim', identifier: 'v@example.com' },
      created_at: 1_700_000_000_000,
    });
    expect(membership.statusCode).toBe(200);

    // 3. The member's session names the organisation.
    const token = mintSessionToken({
      sub: 'user_victim',
      orgId: 'org_future',
      orgRole: 'org:admin',
    });
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/settings/me',
      headers: { authorization: `Bearer ${token}`, origin: 'http://localhost:5173' },
    });
    expect(me.statusCode).toBe(200);
    expect(me.json().data.activeWorkspace.organisationClerkId).toBe('org_future');

    // The member works in it...
    const task = dataOf<Item>(
      await victim.request('POST', '/api/v1/tasks', {
        title: 'secret plan',
        organisationId: 'org_future',
      }),
      201,
    );
    const org = dataOf<Item>(
      await victim.request('GET', '/api/v1/organisations/org_future?includeMembers=true'),
    );
    expect(org.members?.map((m) => m.userId)).toEqual([victim.userId]);

    // ...and the attacker sees none of it.
    expect(dataOf<Item[]>(await attacker.request('GET', '/api/v1/organisations'))).toEqual([]);
    expect((await attacker.request('GET', '/api/v1/organisations/org_future')).statusCode).toBe(
      404,
    );
    expect((await attacker.request('GET', `/api/v1/tasks/${task._id}`)).statusCode).toBe(404);
    const listed = dataOf<Item[]>(
      await attacker.request('GET', '/api/v1/tasks?organisationId=org_future'),
    );
    expect(listed).toEqual([]);
    // The id was refused outright (Clerk's namespace), naming the field.
    expect(squat.statusCode).toBe(400);
    expect(squat.json().errors[0].path).toBe('body.id');
  });

  it('is no oracle: an existing Clerk id and an unknown one get the same answer', async () => {
    const strip = (body: string) => body.replace(/"requestId":"[^"]+"/, '');
    const existing = await attacker.request('POST', '/api/v1/organisations', {
      id: 'org_future',
      name: 'x',
    });
    const unknown = await attacker.request('POST', '/api/v1/organisations', {
      id: 'org_never_seen',
      name: 'x',
    });
    expect(existing.statusCode).toBe(unknown.statusCode);
    expect(strip(existing.body.replace('org_future', ''))).toBe(
      strip(unknown.body.replace('org_never_seen', '')),
    );
    // Outside Clerk's namespace, ids are per creator: another user's id is no conflict.
    const mine = await attacker.request('POST', '/api/v1/organisations', { id: 'acme', name: 'A' });
    const theirs = await victim.request('POST', '/api/v1/organisations', { id: 'acme', name: 'V' });
    expect([mine.statusCode, theirs.statusCode]).toEqual([201, 201]);
    expect(mine.json().data._id).not.toBe(theirs.json().data._id);
    expect(
      (await attacker.request('POST', '/api/v1/organisations', { id: 'acme', name: 'B' }))
        .statusCode,
    ).toBe(409);
    // Each caller's external id resolves to their own organisation.
    expect(dataOf<Item>(await victim.request('GET', '/api/v1/organisations/acme')).name).toBe('V');
    expect(dataOf<Item>(await attacker.request('GET', '/api/v1/organisations/acme')).name).toBe(
      'A',
    );
  });

  it('an organisation with a UUID-shaped external id is addressable by it (finding 7)', async () => {
    const externalId = randomUUID();
    const created = dataOf<Item>(
      await attacker.request('POST', '/api/v1/organisations', { id: externalId, name: 'U' }),
      201,
    );
    expect(created.id).toBe(externalId);
    const got = dataOf<Item>(await attacker.request('GET', `/api/v1/organisations/${externalId}`));
    expect(got._id).toBe(created._id);
    const task = dataOf<{ organisationId: string }>(
      await attacker.request('POST', '/api/v1/tasks', { title: 't', organisationId: externalId }),
      201,
    );
    expect(task.organisationId).toBe(created._id);
  });
});
