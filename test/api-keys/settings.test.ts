import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';

async function probeRoutes(v1: FastifyInstance): Promise<void> {
  v1.post('/__probe', async () => ({ data: { ok: true } }));
}

describe('/api/settings/api-keys', () => {
  let t: TestApp;
  const issued: string[] = [];
  const session = (sub: string) => ({ authorization: `Bearer ${mintSessionToken({ sub })}` });

  beforeAll(async () => {
    t = await buildTestApp({
      env: clerkEnv({ LOG_LEVEL: 'debug' }),
      overrides: { extraApiRoutes: probeRoutes },
    });
  });
  afterAll(async () => {
    for (const key of issued) expect(t.logs.text).not.toContain(key);
    await t.close();
  });

  async function create(sub: string, body: Record<string, unknown>) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/settings/api-keys',
      headers: session(sub),
      payload: body,
    });
    if (res.statusCode === 201) issued.push(res.json().data.key);
    return res;
  }

  it('creates a key (shown once), lists and reads it without secrets', async () => {
    const expiresAt = Date.now() + 7 * 86_400_000;
    const res = await create('user_alice', {
      name: 'Script',
      scopes: ['write', 'read', 'read'],
      expiresAt: new Date(expiresAt).toISOString(),
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const created = res.json().data;
    expect(created).toMatchObject({
      name: 'Script',
      scopes: ['read', 'write'],
      status: 'active',
      expiresAt,
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(created.key).toMatch(/^mo_[0-9A-Za-z]{42}$/);
    expect(created.lastFour).toBe(created.key.slice(-4));
    expect(created.displayKey).toBe(`mo_...${created.lastFour}`);

    const list = await t.app.inject({
      url: '/api/settings/api-keys',
      headers: session('user_alice'),
    });
    expect(list.statusCode).toBe(200);
    const [listed] = list.json().data;
    expect(list.json().data).toHaveLength(1);
    const { key: _key, ...withoutKey } = created;
    expect(listed).toEqual(withoutKey);
    expect(list.body).not.toContain(created.key);
    expect(list.body).not.toContain('argon2');

    const one = await t.app.inject({
      url: `/api/settings/api-keys/${created.id}`,
      headers: session('user_alice'),
    });
    expect(one.statusCode).toBe(200);
    expect(one.json().data).toEqual(withoutKey);
    expect(one.body).not.toContain(created.key);
  });

  it('rejects bad input with 400 and writes nothing', async () => {
    const before = await t.app.inject({
      url: '/api/settings/api-keys',
      headers: session('user_val'),
    });
    for (const body of [
      { name: '', scopes: ['read'] },
      { name: 'x'.repeat(101), scopes: ['read'] },
      { name: 'ok', scopes: [] },
      { name: 'ok', scopes: ['admin'] },
      { name: 'ok' },
      { name: 'ok', scopes: ['read'], expiresAt: new Date(Date.now() - 1000).toISOString() },
      { name: 'ok', scopes: ['read'], expiresAt: 'tomorrow' },
    ]) {
      const res = await create('user_val', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_ERROR');
    }
    const after = await t.app.inject({
      url: '/api/settings/api-keys',
      headers: session('user_val'),
    });
    expect(after.json().data).toEqual(before.json().data);
    expect(after.json().data).toEqual([]);
  });

  it("never shows another user's key: 404 on get, revoke and roll", async () => {
    const res = await create('user_owner', { name: 'mine', scopes: ['read'] });
    const id = res.json().data.id;
    for (const [method, url] of [
      ['GET', `/api/settings/api-keys/${id}`],
      ['POST', `/api/settings/api-keys/${id}/revoke`],
      ['POST', `/api/settings/api-keys/${id}/roll`],
    ] as const) {
      const other = await t.app.inject({
        method,
        url,
        headers: session('user_intruder'),
        ...(method === 'POST' ? { payload: {} } : {}),
      });
      expect(other.statusCode, `${method} ${url}`).toBe(404);
    }
    const list = await t.app.inject({
      url: '/api/settings/api-keys',
      headers: session('user_intruder'),
    });
    expect(list.json().data).toEqual([]);
    const still = await t.app.inject({
      url: `/api/settings/api-keys/${id}`,
      headers: session('user_owner'),
    });
    expect(still.json().data.status).toBe('active');
  });

  it('an API key cannot call the settings API', async () => {
    const k = await createTestKey(t.app);
    issued.push(k.key);
    const res = await t.app.inject({
      url: '/api/settings/api-keys',
      headers: { authorization: `Bearer ${k.key}` },
    });
    expect(res.statusCode).toBe(401);
  });

  it('done when: create, read /me, 403 outside scope, list with last use, revoke stops it', async () => {
    const created = (await create('user_done', { name: 'Reporting', scopes: ['read'] })).json()
      .data;
    const auth = { authorization: `Bearer ${created.key}` };
    const me = await t.app.inject({ url: '/api/v1/me', headers: auth });
    expect(me.statusCode).toBe(200);
    expect(me.json().data.key).toMatchObject({
      id: created.id,
      name: 'Reporting',
      scopes: ['read'],
    });
    const write = await t.app.inject({
      method: 'POST',
      url: '/api/v1/__probe',
      headers: auth,
      payload: {},
    });
    expect(write.statusCode).toBe(403);
    expect(write.json().code).toBe('INSUFFICIENT_SCOPE');

    await t.app.apiKeys.verifier.flushLastUsed();
    const listed = (
      await t.app.inject({ url: '/api/settings/api-keys', headers: session('user_done') })
    ).json().data[0];
    expect(listed.displayKey).toBe(`mo_...${created.key.slice(-4)}`);
    expect(listed.status).toBe('active');
    expect(listed.lastUsedAt).toEqual(expect.any(Number));

    const revoked = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${created.id}/revoke`,
      headers: session('user_done'),
      payload: { reason: 'no longer needed' },
    });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().data).toMatchObject({
      status: 'revoked',
      revokeReason: 'no longer needed',
      revokedAt: expect.any(Number),
    });
    const after = await t.app.inject({ url: '/api/v1/me', headers: auth });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('API_KEY_REVOKED');
    // Revoking again is harmless and keeps the first time and reason.
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${created.id}/revoke`,
      headers: session('user_done'),
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().data.revokedAt).toBe(revoked.json().data.revokedAt);
    expect(again.json().data.revokeReason).toBe('no longer needed');
  });

  it('rotation as the page describes: create a new key, switch, revoke the old', async () => {
    const oldKey = (await create('user_rot', { name: 'CI', scopes: ['read'] })).json().data;
    const newKey = (await create('user_rot', { name: 'CI 2', scopes: ['read'] })).json().data;
    for (const k of [oldKey, newKey]) {
      expect(
        (await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${k.key}` } }))
          .statusCode,
      ).toBe(200);
    }
    await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${oldKey.id}/revoke`,
      headers: session('user_rot'),
    });
    const statuses = (
      await t.app.inject({ url: '/api/settings/api-keys', headers: session('user_rot') })
    )
      .json()
      .data.map((k: { id: string; status: string }) => [k.id, k.status]);
    expect(Object.fromEntries(statuses)).toEqual({ [oldKey.id]: 'revoked', [newKey.id]: 'active' });
    const old = await t.app.inject({
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${oldKey.key}` },
    });
    expect(old.statusCode).toBe(401);
  });

  it('roll: same name, scopes and expiry; old key expires; cannot roll twice', async () => {
    const expiresAt = Date.now() + 3 * 86_400_000;
    const original = (
      await create('user_roll', { name: 'deploy', scopes: ['read', 'delete'], expiresAt })
    ).json().data;
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${original.id}/roll`,
      headers: session('user_roll'),
      payload: {},
    });
    expect(res.statusCode).toBe(201);
    const rolled = res.json().data;
    issued.push(rolled.key);
    expect(rolled).toMatchObject({
      name: 'deploy',
      scopes: ['read', 'delete'],
      expiresAt,
      status: 'active',
      rolledFromId: original.id,
    });
    expect(rolled.key).not.toBe(original.key);
    expect(rolled.previous).toMatchObject({
      id: original.id,
      status: 'expired',
      replacedById: rolled.id,
    });
    const old = await t.app.inject({
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${original.key}` },
    });
    expect(old.json().code).toBe('API_KEY_EXPIRED');
    const twice = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${original.id}/roll`,
      headers: session('user_roll'),
      payload: {},
    });
    expect(twice.statusCode).toBe(409);
  });

  it('roll never extends the old key beyond its own expiry, nor past 7 days', async () => {
    const expiresAt = Date.now() + 3_600_000;
    const original = (await create('user_roll2', { name: 'x', scopes: ['read'], expiresAt })).json()
      .data;
    const tooLong = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${original.id}/roll`,
      headers: session('user_roll2'),
      payload: { oldKeyExpiresAt: new Date(Date.now() + 8 * 86_400_000).toISOString() },
    });
    expect(tooLong.statusCode).toBe(400);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/settings/api-keys/${original.id}/roll`,
      headers: session('user_roll2'),
      payload: { oldKeyExpiresAt: new Date(Date.now() + 2 * 86_400_000).toISOString() },
    });
    expect(res.statusCode).toBe(201);
    issued.push(res.json().data.key);
    expect(res.json().data.previous.expiresAt).toBe(expiresAt);
    expect(res.json().data.previous.status).toBe('active');
    expect(res.json().data.expiresAt).toBe(expiresAt);
  });

  it('carries the per-address rate-limit headers', async () => {
    const res = await t.app.inject({ url: '/api/settings/api-keys', headers: session('user_rl') });
    expect(res.headers['ratelimit-policy']).toBe('"settings";q=300;w=60');
    expect(res.headers.ratelimit).toMatch(/^"settings";r=\d+;t=\d+$/);
  });

  it('documents the routes in OpenAPI without secret columns', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(doc.paths['/api/settings/api-keys/{id}/roll']).toBeDefined();
    expect(doc.paths['/api/settings/api-keys'].post).toBeDefined();
    expect(doc.paths['/api/settings/api-keys'].get).toBeDefined();
    expect(doc.paths['/api/v1/me']).toBeDefined();
    const schemas = JSON.stringify(doc.components.schemas);
    expect(schemas).not.toMatch(/secretHash|secret_hash|publicId/);
  });
});
