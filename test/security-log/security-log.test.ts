import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureUserByClerkId } from '../../src/modules/api-keys/api-keys.repository.ts';
import type { TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken, signClerkWebhook } from '../helpers/clerk.ts';
import { buildApiTestApp, dataOf, seedOrganisation } from '../helpers/workspaces.ts';

interface Entry {
  id: string;
  time: number;
  actor: { type: 'user' | 'system'; userId: string | null; cause: string | null };
  action: string;
  target: { type: string; id: string };
  userId: string | null;
  organisationId: string | null;
  address: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}
interface Page {
  data: Entry[];
  nextCursor: string | null;
}

describe('GET /api/settings/security-log', () => {
  let t: TestApp;
  const alice = 'user_sec_alice';
  const bob = 'user_sec_bob';
  let aliceId: string;
  let bobId: string;
  let org: { id: string; clerkId: string };
  const secrets: string[] = [];

  const session = (sub: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${mintSessionToken({ sub })}`,
    ...extra,
  });
  const log = async (sub: string, query = '') =>
    dataOf<Page['data']>(
      await t.app.inject({ url: `/api/settings/security-log${query}`, headers: session(sub) }),
    );
  const page = async (sub: string, query = ''): Promise<Page> => {
    const res = await t.app.inject({
      url: `/api/settings/security-log${query}`,
      headers: session(sub),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Page;
  };
  const createKey = async (sub: string, body: Record<string, unknown> = {}) => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/settings/api-keys',
      headers: session(sub, { 'user-agent': 'monoid-settings-ui/1.0' }),
      payload: { name: 'k', scopes: ['read'], ...body },
    });
    const data = dataOf<{ id: string; key: string }>(res, 201);
    secrets.push(data.key);
    return data;
  };

  beforeAll(async () => {
    t = await buildApiTestApp({
      ...(clerkEnv() as Record<string, string>),
      TRUST_PROXY: '1', // one proxy: the test's X-Forwarded-For is the client
      API_KEY_LAST_USED_INTERVAL_MS: '0',
    });
    aliceId = (await ensureUserByClerkId(t.db.database.db, alice)).id;
    bobId = (await ensureUserByClerkId(t.db.database.db, bob)).id;
    org = await seedOrganisation(t.db.database, {
      name: 'Sec',
      members: [
        { userId: aliceId, role: 'org:admin' },
        { userId: bobId, role: 'org:member' },
      ],
    });
  });
  afterAll(async () => t.close());

  it('key created, rolled and revoked: each once, by whom, from where, in the right logs', async () => {
    const personal = await createKey(bob);
    const bound = await createKey(bob, { workspace: org.id });
    const rolled = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${bound.id}/roll`,
      headers: session(bob),
      payload: {},
    });
    secrets.push(dataOf<{ key: string }>(rolled, 201).key);
    for (let i = 0; i < 2; i++) {
      // Twice: the second revocation changes nothing and logs nothing.
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/settings/api-keys/${personal.id}/revoke`,
        headers: session(bob),
        payload: { reason: 'no longer needed' },
      });
      expect(res.statusCode).toBe(200);
    }

    const bobs = await log(bob);
    const about = (id: string) => bobs.filter((e) => e.target.id === id).map((e) => e.action);
    expect(about(personal.id).sort()).toEqual(['api_key.created', 'api_key.revoked']);
    expect(about(bound.id).sort()).toEqual(['api_key.created', 'api_key.rolled']);
    const created = bobs.find((e) => e.target.id === personal.id && e.action === 'api_key.created');
    expect(created).toMatchObject({
      actor: { type: 'user', userId: bobId, cause: null },
      target: { type: 'api_key', id: personal.id },
      userId: bobId,
      organisationId: null,
      userAgent: 'monoid-settings-ui/1.0',
    });
    expect(created?.address).toBeTruthy();
    expect(typeof created?.time).toBe('number');
    const revoked = bobs.find((e) => e.action === 'api_key.revoked');
    expect(revoked?.details).toMatchObject({ reason: 'no longer needed' });

    // Alice administers the organisation: she sees Bob's entries about the bound key only.
    const alices = await log(alice);
    expect(alices.map((e) => e.target.id)).toContain(bound.id);
    expect(alices.map((e) => e.target.id)).not.toContain(personal.id);
    expect(alices.every((e) => e.userId === aliceId || e.organisationId === org.id)).toBe(true);
  });

  it('a member sees no organisation entries but their own', async () => {
    const adminKey = await createKey(alice, { workspace: org.id });
    const bobs = await log(bob);
    expect(bobs.map((e) => e.target.id)).not.toContain(adminKey.id);
    expect(bobs.every((e) => e.userId === bobId)).toBe(true);
    expect((await log(alice)).map((e) => e.target.id)).toContain(adminKey.id);
  });

  it('first use of a key from a new address: once per key and address', async () => {
    const k = await createKey(alice);
    const call = (ip: string) =>
      t.app.inject({
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${k.key}`, 'x-forwarded-for': ip, 'user-agent': 'cli/2' },
      });
    for (const ip of ['203.0.113.7', '203.0.113.7', '198.51.100.9', '203.0.113.7']) {
      expect((await call(ip)).statusCode).toBe(200);
    }
    await t.app.apiKeys.verifier.flushLastUsed();
    expect((await call('198.51.100.9')).statusCode).toBe(200);
    await t.app.apiKeys.verifier.flushLastUsed();
    const uses = (await log(alice, '?action=api_key.used_from_new_address')).filter(
      (e) => e.target.id === k.id,
    );
    expect(uses.map((e) => e.address).sort()).toEqual(['198.51.100.9', '203.0.113.7']);
    expect(uses[0]).toMatchObject({ actor: { type: 'user', userId: aliceId }, userAgent: 'cli/2' });
  });

  it('system actions name their cause: user deletion', async () => {
    const carol = 'user_sec_carol';
    const k = await createKey(carol);
    const { headers, payload } = signClerkWebhook({
      type: 'user.deleted',
      data: { id: carol, deleted: true },
    });
    expect(
      (await t.app.inject({ method: 'POST', url: '/webhooks/clerk', headers, payload })).statusCode,
    ).toBe(200);
    const rows = await t.db.database.db.query.securityEvents.findMany({
      where: (e, { eq }) => eq(e.targetId, k.id),
    });
    expect(rows.map((r) => [r.action, r.cause]).sort()).toEqual([
      ['api_key.created', null],
      ['api_key.revoked', 'user_deletion'],
    ]);
  });

  it('cursor pagination walks every entry once, newest first; filters by action and target', async () => {
    const all = await log(alice, '?limit=200');
    expect(all.length).toBeGreaterThan(4);
    const seen: Entry[] = [];
    let cursor: string | null = null;
    do {
      const p: Page = await page(alice, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.data.length).toBeLessThanOrEqual(2);
      seen.push(...p.data);
      cursor = p.nextCursor;
    } while (cursor);
    expect(seen.map((e) => e.id)).toEqual(all.map((e) => e.id));
    for (let i = 1; i < seen.length; i++) {
      expect((seen[i - 1] as Entry).time).toBeGreaterThanOrEqual((seen[i] as Entry).time);
    }
    const created = await log(alice, '?action=api_key.created&action=api_key.rolled');
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((e) => ['api_key.created', 'api_key.rolled'].includes(e.action))).toBe(
      true,
    );
    const one = all[0] as Entry;
    const byTarget = await log(alice, `?targetType=api_key&targetId=${one.target.id}`);
    expect(byTarget.every((e) => e.target.id === one.target.id)).toBe(true);
    expect(byTarget.map((e) => e.id)).toContain(one.id);
  });

  it('bad queries are 400s; an API key is refused', async () => {
    for (const q of [
      '?cursor=bm9wZQ',
      '?limit=0',
      '?action=api_key.exploded',
      '?targetType=user',
    ]) {
      const res = await t.app.inject({
        url: `/api/settings/security-log${q}`,
        headers: session(alice),
      });
      expect(res.statusCode, q).toBe(400);
    }
    const res = await t.app.inject({
      url: '/api/settings/security-log',
      headers: { authorization: `Bearer ${secrets[0]}` },
    });
    expect(res.statusCode).toBe(401);
  });

  it('holds no key, token or secret', async () => {
    const text = JSON.stringify(await t.db.database.db.query.securityEvents.findMany());
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(3, 39));
    }
  });
});
