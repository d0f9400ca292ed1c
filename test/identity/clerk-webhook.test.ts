import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clerkWebhookDeliveries, memberships, organisations, users } from '../../src/db/schema.ts';
import { listOrganisationAccess } from '../../src/modules/identity/identity.repository.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import {
  clerkEnv,
  mintSessionToken,
  type SignClerkWebhookOptions,
  signClerkWebhook,
} from '../helpers/clerk.ts';

// Clerk payload builders (the fields webhook-protocols.md §3 lists).
const userData = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  object: 'user',
  first_name: 'Ada',
  last_name: 'Lovelace',
  image_url: `https://img.clerk.com/${id}.png`,
  username: null,
  primary_email_address_id: 'idn_2',
  email_addresses: [
    { id: 'idn_1', email_address: 'old@example.com' },
    { id: 'idn_2', email_address: `${id}@example.com` },
  ],
  external_id: null,
  public_metadata: {},
  created_at: 1_700_000_000_000,
  ...over,
});
const orgData = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  object: 'organization',
  name: 'Acme',
  slug: 'acme',
  image_url: null,
  public_metadata: {},
  created_at: 1_700_000_000_000,
  ...over,
});
const membershipData = (userId: string, orgId: string, role = 'org:member') => ({
  id: `orgmem_${userId}_${orgId}`,
  object: 'organization_membership',
  role,
  permissions: [],
  organization: orgData(orgId),
  public_user_data: {
    user_id: userId,
    identifier: `${userId}@example.com`,
    first_name: 'Grace',
    last_name: 'Hopper',
    image_url: null,
  },
  created_at: 1_700_000_000_000,
});

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe('POST /webhooks/clerk', () => {
  let t: TestApp;
  const hookCalls: string[] = [];
  let failHook = false;

  beforeAll(async () => {
    t = await buildTestApp({
      env: clerkEnv(),
      overrides: {
        extraRoutes: (app) => {
          app.identityHooks.onUserDeleted.push(async (tx, userId) => {
            // Runs inside the deletion transaction: sees the tombstone already written.
            const [row] = await tx.select().from(users).where(eq(users.id, userId));
            expect(row?.deletedAt).not.toBeNull();
            if (failHook) throw new Error('hook failed');
            hookCalls.push(userId);
          });
        },
      },
    });
  });
  afterAll(async () => t.close());
  beforeEach(() => {
    failHook = false;
  });

  const db = () => t.db.database.db;
  const deliver = (options: SignClerkWebhookOptions) => {
    const signed = signClerkWebhook(options);
    return t.app.inject({
      method: 'POST',
      url: '/webhooks/clerk',
      headers: signed.headers,
      payload: signed.payload,
    });
  };
  const userRow = async (clerkId: string) =>
    (await db().select().from(users).where(eq(users.clerkId, clerkId)))[0];
  const orgRow = async (clerkId: string) =>
    (await db().select().from(organisations).where(eq(organisations.clerkId, clerkId)))[0];
  const membershipRows = async (userClerkId: string) => {
    const user = await userRow(userClerkId);
    if (!user) return [];
    return db().select().from(memberships).where(eq(memberships.userId, user.id));
  };
  const me = (sub: string, orgId?: string, orgRole?: string) =>
    t.app.inject({
      method: 'GET',
      url: '/api/settings/me',
      headers: {
        authorization: `Bearer ${mintSessionToken({ sub, ...(orgId ? { orgId } : {}), ...(orgRole ? { orgRole } : {}) })}`,
      },
    });

  it('user, organisation and membership from webhooks appear in /api/settings/me', async () => {
    let res = await deliver({ type: 'user.created', data: userData('user_done') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ received: true, duplicate: false, ignored: false });
    res = await deliver({
      type: 'organization.created',
      data: orgData('org_done', { name: 'Done Inc', slug: 'done' }),
    });
    expect(res.statusCode).toBe(200);
    res = await deliver({
      type: 'organizationMembership.created',
      data: {
        ...membershipData('user_done', 'org_done', 'org:admin'),
        organization: orgData('org_done', { name: 'Done Inc', slug: 'done' }),
      },
    });
    expect(res.statusCode).toBe(200);

    const body = (await me('user_done', 'org_done', 'org:admin')).json().data;
    expect(body.user).toMatchObject({
      clerkId: 'user_done',
      email: 'user_done@example.com', // the primary address, not the first one
      firstName: 'Ada',
      lastName: 'Lovelace',
    });
    expect(body.memberships).toEqual([
      expect.objectContaining({
        role: 'org:admin',
        organisation: expect.objectContaining({
          clerkId: 'org_done',
          name: 'Done Inc',
          slug: 'done',
        }),
      }),
    ]);
    expect(body.activeWorkspace).toMatchObject({
      type: 'organisation',
      name: 'Done Inc',
      role: 'org:admin',
    });
  });

  it('applies user.updated and organization.updated', async () => {
    await deliver({ type: 'user.created', data: userData('user_upd'), eventTime: minutesAgo(2) });
    await deliver({
      type: 'user.updated',
      data: userData('user_upd', { first_name: 'Augusta' }),
      eventTime: minutesAgo(1),
    });
    expect((await userRow('user_upd'))?.firstName).toBe('Augusta');
    await deliver({
      type: 'organization.created',
      data: orgData('org_upd'),
      eventTime: minutesAgo(2),
    });
    await deliver({
      type: 'organization.updated',
      data: orgData('org_upd', { name: 'Acme 2', slug: 'acme-2' }),
      eventTime: minutesAgo(1),
    });
    expect(await orgRow('org_upd')).toMatchObject({ name: 'Acme 2', slug: 'acme-2' });
  });

  it('applies organizationMembership.updated (role change) and .deleted', async () => {
    await deliver({
      type: 'organizationMembership.created',
      data: membershipData('user_mu', 'org_mu'),
      eventTime: minutesAgo(3),
    });
    await deliver({
      type: 'organizationMembership.updated',
      data: membershipData('user_mu', 'org_mu', 'org:admin'),
      eventTime: minutesAgo(2),
    });
    expect((await membershipRows('user_mu'))[0]).toMatchObject({
      role: 'org:admin',
      deletedAt: null,
      clerkId: 'orgmem_user_mu_org_mu',
    });
    await deliver({
      type: 'organizationMembership.deleted',
      data: membershipData('user_mu', 'org_mu', 'org:admin'),
      eventTime: minutesAgo(1),
    });
    expect((await membershipRows('user_mu'))[0]?.deletedAt).not.toBeNull();
  });

  it('ending a membership removes access on the very next request', async () => {
    await deliver({
      type: 'organizationMembership.created',
      data: membershipData('user_next', 'org_next', 'org:admin'),
      eventTime: minutesAgo(5),
    });
    const token = mintSessionToken({
      sub: 'user_next',
      orgId: 'org_next',
      orgRole: 'org:admin',
      iat: Math.floor(Date.now() / 1000) - 30,
    });
    const headers = { authorization: `Bearer ${token}` };
    expect((await t.app.inject({ url: '/api/settings/me', headers })).statusCode).toBe(200);
    await deliver({
      type: 'organizationMembership.deleted',
      data: membershipData('user_next', 'org_next', 'org:admin'),
    });
    const res = await t.app.inject({ url: '/api/settings/me', headers });
    expect(res.statusCode).toBe(403);
    // The query the API-key layer runs per request sees it too.
    const user = await userRow('user_next');
    expect(await listOrganisationAccess(db(), user?.id ?? '')).toEqual([]);
    // And it is gone from the personal view too.
    expect((await me('user_next')).json().data.memberships).toEqual([]);
  });

  it('a demotion applies on the next request although the token still says admin', async () => {
    await deliver({
      type: 'organizationMembership.created',
      data: membershipData('user_dem', 'org_dem', 'org:admin'),
      eventTime: minutesAgo(5),
    });
    const token = mintSessionToken({
      sub: 'user_dem',
      orgId: 'org_dem',
      orgRole: 'org:admin',
      iat: Math.floor(Date.now() / 1000) - 30,
    });
    const headers = { authorization: `Bearer ${token}` };
    expect(
      (await t.app.inject({ url: '/api/settings/me', headers })).json().data.activeWorkspace.role,
    ).toBe('org:admin');
    await deliver({
      type: 'organizationMembership.updated',
      data: membershipData('user_dem', 'org_dem', 'org:member'),
    });
    const res = await t.app.inject({ url: '/api/settings/me', headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.activeWorkspace.role).toBe('org:member');
  });

  it('user.deleted tombstones the user, erases personal data, ends memberships and runs hooks', async () => {
    await deliver({ type: 'user.created', data: userData('user_del'), eventTime: minutesAgo(3) });
    await deliver({
      type: 'organizationMembership.created',
      data: membershipData('user_del', 'org_del'),
      eventTime: minutesAgo(2),
    });
    const before = await userRow('user_del');
    const res = await deliver({
      type: 'user.deleted',
      data: { id: 'user_del', object: 'user', deleted: true },
    });
    expect(res.statusCode).toBe(200);
    const after = await userRow('user_del');
    expect(after).toMatchObject({ id: before?.id, email: null, firstName: null, lastName: null });
    expect(after?.deletedAt).not.toBeNull();
    expect((await membershipRows('user_del')).every((m) => m.deletedAt !== null)).toBe(true);
    expect(hookCalls).toContain(before?.id);
    // A still-valid session token of the deleted user no longer works.
    expect((await me('user_del')).statusCode).toBe(401);
  });

  it('a failing onUserDeleted hook rolls the whole delivery back, and the retry applies it', async () => {
    await deliver({ type: 'user.created', data: userData('user_hook'), eventTime: minutesAgo(2) });
    failHook = true;
    const signed = signClerkWebhook({
      type: 'user.deleted',
      data: { id: 'user_hook', deleted: true },
    });
    const first = await t.app.inject({
      method: 'POST',
      url: '/webhooks/clerk',
      headers: signed.headers,
      payload: signed.payload,
    });
    expect(first.statusCode).toBe(500);
    expect((await userRow('user_hook'))?.deletedAt).toBeNull();
    expect(
      await db()
        .select()
        .from(clerkWebhookDeliveries)
        .where(eq(clerkWebhookDeliveries.svixId, signed.id)),
    ).toEqual([]);
    failHook = false;
    const retry = await deliver({
      id: signed.id,
      type: 'user.deleted',
      data: { id: 'user_hook', deleted: true },
    });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().duplicate).toBe(false);
    expect((await userRow('user_hook'))?.deletedAt).not.toBeNull();
  });

  it('organization.deleted tombstones the organisation and ends its memberships', async () => {
    await deliver({
      type: 'organizationMembership.created',
      data: membershipData('user_od', 'org_od', 'org:admin'),
      eventTime: minutesAgo(2),
    });
    await deliver({
      type: 'organization.deleted',
      data: { id: 'org_od', object: 'organization', deleted: true },
    });
    expect((await orgRow('org_od'))?.deletedAt).not.toBeNull();
    expect((await membershipRows('user_od'))[0]?.deletedAt).not.toBeNull();
    expect((await me('user_od', 'org_od', 'org:admin')).statusCode).toBe(403);
    // A late update (older event) never resurrects it.
    const late = await deliver({
      type: 'organization.updated',
      data: orgData('org_od', { name: 'Zombie' }),
      eventTime: minutesAgo(1),
    });
    expect(late.json().ignored).toBe(true);
    expect(await orgRow('org_od')).toMatchObject({ name: 'Acme' });
    expect((await orgRow('org_od'))?.deletedAt).not.toBeNull();
  });

  describe('idempotency', () => {
    it('a redelivered svix-id is acknowledged and has no second effect', async () => {
      const first = signClerkWebhook({
        type: 'user.updated',
        data: userData('user_dup', { first_name: 'First' }),
        eventTime: minutesAgo(3),
      });
      const send = (s: typeof first) =>
        t.app.inject({
          method: 'POST',
          url: '/webhooks/clerk',
          headers: s.headers,
          payload: s.payload,
        });
      expect((await send(first)).json().duplicate).toBe(false);
      await deliver({
        type: 'user.updated',
        data: userData('user_dup', { first_name: 'Second' }),
        eventTime: minutesAgo(2),
      });
      // The same message retried later: Svix re-signs it with a new timestamp, same id.
      const retry = signClerkWebhook({
        id: first.id,
        type: 'user.updated',
        data: userData('user_dup', { first_name: 'First' }),
        eventTime: minutesAgo(3),
      });
      const res = await send(retry);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: true, ignored: false });
      expect((await userRow('user_dup'))?.firstName).toBe('Second');
      const rows = await db()
        .select()
        .from(clerkWebhookDeliveries)
        .where(eq(clerkWebhookDeliveries.svixId, first.id));
      expect(rows).toHaveLength(1);
    });

    it('concurrent duplicates apply once', async () => {
      const signed = signClerkWebhook({
        type: 'organizationMembership.created',
        data: membershipData('user_cc', 'org_cc'),
      });
      const results = await Promise.all(
        [1, 2, 3].map(() =>
          t.app.inject({
            method: 'POST',
            url: '/webhooks/clerk',
            headers: signed.headers,
            payload: signed.payload,
          }),
        ),
      );
      expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
      expect(results.filter((r) => r.json().duplicate === false)).toHaveLength(1);
      expect(await membershipRows('user_cc')).toHaveLength(1);
    });
  });

  describe('out-of-order delivery', () => {
    it('a membership before its user and organisation creates placeholders that the later events fill', async () => {
      await deliver({
        type: 'organizationMembership.created',
        data: membershipData('user_ooo', 'org_ooo', 'org:admin'),
        eventTime: minutesAgo(1),
      });
      expect(await userRow('user_ooo')).toMatchObject({
        firstName: 'Grace',
        email: 'user_ooo@example.com',
        clerkEventAt: null,
      });
      expect(await orgRow('org_ooo')).toMatchObject({ name: 'Acme', clerkEventAt: null });
      // The user and organisation events were created earlier but arrive later: still applied.
      await deliver({ type: 'user.created', data: userData('user_ooo'), eventTime: minutesAgo(3) });
      await deliver({
        type: 'organization.created',
        data: orgData('org_ooo', { name: 'Real Name' }),
        eventTime: minutesAgo(3),
      });
      expect(await userRow('user_ooo')).toMatchObject({
        firstName: 'Ada',
        email: 'user_ooo@example.com',
      });
      expect(await orgRow('org_ooo')).toMatchObject({ name: 'Real Name' });
      expect((await membershipRows('user_ooo'))[0]).toMatchObject({
        role: 'org:admin',
        deletedAt: null,
      });
    });

    it('an updated before its created keeps the newer data', async () => {
      await deliver({
        type: 'user.updated',
        data: userData('user_uc', { first_name: 'Newer' }),
        eventTime: minutesAgo(1),
      });
      const res = await deliver({
        type: 'user.created',
        data: userData('user_uc', { first_name: 'Older' }),
        eventTime: minutesAgo(2),
      });
      expect(res.json().ignored).toBe(true);
      expect((await userRow('user_uc'))?.firstName).toBe('Newer');
    });

    it('a late user.updated never resurrects a deleted user', async () => {
      await deliver({ type: 'user.created', data: userData('user_z'), eventTime: minutesAgo(3) });
      await deliver({
        type: 'user.deleted',
        data: { id: 'user_z', deleted: true },
        eventTime: minutesAgo(2),
      });
      // Even an update stamped after the deletion (clock skew) does not bring it back.
      for (const eventTime of [minutesAgo(2.5), minutesAgo(1)]) {
        const res = await deliver({
          type: 'user.updated',
          data: userData('user_z', { first_name: 'Zombie' }),
          eventTime,
        });
        expect(res.statusCode).toBe(200);
        expect(res.json().ignored).toBe(true);
      }
      const row = await userRow('user_z');
      expect(row?.deletedAt).not.toBeNull();
      expect(row?.firstName).toBeNull();
    });

    it('a deletion that arrives before the creation leaves a tombstone', async () => {
      await deliver({
        type: 'user.deleted',
        data: { id: 'user_tomb', deleted: true },
        eventTime: minutesAgo(1),
      });
      await deliver({
        type: 'user.created',
        data: userData('user_tomb'),
        eventTime: minutesAgo(2),
      });
      expect((await userRow('user_tomb'))?.deletedAt).not.toBeNull();
      await deliver({
        type: 'organizationMembership.deleted',
        data: membershipData('user_mt', 'org_mt'),
        eventTime: minutesAgo(1),
      });
      await deliver({
        type: 'organizationMembership.created',
        data: membershipData('user_mt', 'org_mt'),
        eventTime: minutesAgo(2),
      });
      expect((await membershipRows('user_mt'))[0]?.deletedAt).not.toBeNull();
      // A newer creation (re-invited) restores the membership.
      await deliver({
        type: 'organizationMembership.created',
        data: membershipData('user_mt', 'org_mt', 'org:admin'),
      });
      expect((await membershipRows('user_mt'))[0]).toMatchObject({
        deletedAt: null,
        role: 'org:admin',
      });
    });

    it('a membership of a deleted user is never recorded', async () => {
      await deliver({
        type: 'user.deleted',
        data: { id: 'user_gone', deleted: true },
        eventTime: minutesAgo(2),
      });
      const res = await deliver({
        type: 'organizationMembership.created',
        data: membershipData('user_gone', 'org_x'),
      });
      expect(res.json().ignored).toBe(true);
      expect(await membershipRows('user_gone')).toEqual([]);
    });
  });

  describe('verification', () => {
    const countAll = async () => ({
      users: (await db().select().from(users)).length,
      deliveries: (await db().select().from(clerkWebhookDeliveries)).length,
    });

    it('rejects a tampered body with 401 and writes nothing', async () => {
      const before = await countAll();
      const signed = signClerkWebhook({ type: 'user.created', data: userData('user_tamper') });
      const res = await t.app.inject({
        method: 'POST',
        url: '/webhooks/clerk',
        headers: signed.headers,
        payload: signed.payload.replace('Ada', 'Eve'),
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401 });
      expect(await countAll()).toEqual(before);
      expect(t.logs.text).not.toContain(signed.headers['svix-signature']);
    });

    it('verifies the exact bytes (whitespace and key order as sent)', async () => {
      const payload = `{ "type": "user.created",\n  "data": ${JSON.stringify(userData('user_bytes'))},  "object": "event" }`;
      const res = await deliver({ type: 'user.created', data: {}, payload });
      expect(res.statusCode).toBe(200);
      expect(await userRow('user_bytes')).toBeDefined();
    });

    it('rejects a delivery signed with the wrong secret', async () => {
      const wrong = `whsec_${randomBytes(24).toString('base64')}`;
      const res = await deliver({
        type: 'user.created',
        data: userData('user_wrong'),
        secret: wrong,
      });
      expect(res.statusCode).toBe(401);
      expect(await userRow('user_wrong')).toBeUndefined();
    });

    it.each([
      ['stale', -301],
      ['future', 301],
    ])('rejects a %s timestamp (%i s)', async (_label, offset) => {
      const timestamp = new Date(Date.now() + offset * 1000);
      const res = await deliver({
        type: 'user.created',
        data: userData(`user_ts${offset}`),
        timestamp,
      });
      expect(res.statusCode).toBe(401);
      expect(await userRow(`user_ts${offset}`)).toBeUndefined();
    });

    it('accepts a timestamp within the tolerance', async () => {
      const res = await deliver({
        type: 'user.created',
        data: userData('user_tol'),
        timestamp: new Date(Date.now() - 240_000),
      });
      expect(res.statusCode).toBe(200);
    });

    it('accepts a header with several signatures when one matches (key rotation)', async () => {
      const old = `whsec_${randomBytes(24).toString('base64')}`;
      const signed = signClerkWebhook({
        type: 'user.created',
        data: userData('user_rot'),
        secret: old,
        extraSecrets: [clerkEnv().CLERK_WEBHOOK_SIGNING_SECRET ?? ''],
      });
      expect(signed.headers['svix-signature']?.split(' ')).toHaveLength(2);
      const headers = {
        ...signed.headers,
        'svix-signature': `v2,ignored ${signed.headers['svix-signature']}`,
      };
      const res = await t.app.inject({
        method: 'POST',
        url: '/webhooks/clerk',
        headers,
        payload: signed.payload,
      });
      expect(res.statusCode).toBe(200);
      // Only non-matching signatures: rejected.
      const bad = signClerkWebhook({
        type: 'user.created',
        data: userData('user_rot2'),
        secret: old,
        extraSecrets: [old],
      });
      expect(
        (
          await t.app.inject({
            method: 'POST',
            url: '/webhooks/clerk',
            headers: bad.headers,
            payload: bad.payload,
          })
        ).statusCode,
      ).toBe(401);
    });

    it('rejects missing svix headers', async () => {
      const signed = signClerkWebhook({ type: 'user.created', data: userData('user_nohdr') });
      for (const name of ['svix-id', 'svix-timestamp', 'svix-signature']) {
        const headers = { ...signed.headers };
        delete headers[name];
        const res = await t.app.inject({
          method: 'POST',
          url: '/webhooks/clerk',
          headers,
          payload: signed.payload,
        });
        expect(res.statusCode).toBe(401);
      }
      expect(await userRow('user_nohdr')).toBeUndefined();
    });

    it('acknowledges unknown event types and ignores them', async () => {
      const res = await deliver({ type: 'session.created', data: { id: 'sess_1' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: false, ignored: true });
    });

    it('answers 400 (and asks Svix not to retry) for a signed event with unusable data', async () => {
      const res = await deliver({ type: 'user.created', data: { first_name: 'no id' } });
      expect(res.statusCode).toBe(400);
      expect(res.headers['webhook-delivery']).toBe('abort-message');
      expect(res.json().code).toBe('BAD_REQUEST');
    });
  });
});

describe('POST /webhooks/clerk without a signing secret', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: clerkEnv({ CLERK_WEBHOOK_SIGNING_SECRET: undefined }) });
  });
  afterAll(async () => t.close());

  it('answers 503 naming the variable', async () => {
    const signed = signClerkWebhook({ type: 'user.created', data: userData('user_1') });
    const res = await t.app.inject({
      method: 'POST',
      url: '/webhooks/clerk',
      headers: signed.headers,
      payload: signed.payload,
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(res.json().detail).toContain('CLERK_WEBHOOK_SIGNING_SECRET');
  });
});
