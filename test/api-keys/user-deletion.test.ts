import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys } from '../../src/db/schema.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, signClerkWebhook } from '../helpers/clerk.ts';

describe('deleting a user (Clerk webhook) revokes all their keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A cache TTL far longer than the test: only the invalidation can make the keys fail.
    t = await buildTestApp({ env: clerkEnv({ API_KEY_CACHE_TTL_MS: '3600000' }) });
  });
  afterAll(async () => t.close());

  const me = (key: string) =>
    t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });

  it('on the very next request, despite a warm cache', async () => {
    const created = signClerkWebhook({
      type: 'user.created',
      data: { id: 'user_leaving', email_addresses: [], first_name: 'Lea' },
    });
    const c = await t.app.inject({
      method: 'POST',
      url: '/webhooks/clerk',
      headers: created.headers,
      payload: created.payload,
    });
    expect(c.statusCode).toBe(200);
    const a = await createTestKey(t.app, { clerkUserId: 'user_leaving' });
    const b = await createTestKey(t.app, { clerkUserId: 'user_leaving', scopes: ['read'] });
    const bystander = await createTestKey(t.app, { clerkUserId: 'user_staying' });
    for (const k of [a, b, bystander]) expect((await me(k.key)).statusCode).toBe(200);

    const deleted = signClerkWebhook({
      type: 'user.deleted',
      data: { id: 'user_leaving', deleted: true, object: 'user' },
    });
    const d = await t.app.inject({
      method: 'POST',
      url: '/webhooks/clerk',
      headers: deleted.headers,
      payload: deleted.payload,
    });
    expect(d.statusCode).toBe(200);

    for (const k of [a, b]) {
      const res = await me(k.key);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('API_KEY_REVOKED');
    }
    expect((await me(bystander.key)).statusCode).toBe(200);
    // Revoked in storage too, not only refused at verification: the keys list shows them so.
    const rows = await t.app.database.db
      .select()
      .from(apiKeys)
      .where(inArray(apiKeys.id, [a.keyId, b.keyId, bystander.keyId]));
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const k of [a, b]) {
      expect(byId.get(k.keyId)?.revokedAt).toBeInstanceOf(Date);
      expect(byId.get(k.keyId)?.revokeReason).toBe('user deleted');
    }
    expect(byId.get(bystander.keyId)?.revokedAt).toBeNull();
  });
});
