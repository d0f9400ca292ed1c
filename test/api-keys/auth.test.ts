import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memberships, organisations } from '../../src/db/schema.ts';
import type { Scope } from '../../src/http/auth-context.ts';
import { checksumOf, generateApiKey } from '../../src/modules/api-keys/api-key.format.ts';
import { findUserByClerkId } from '../../src/modules/api-keys/api-keys.repository.ts';
import {
  createApiKeyForClerkUser,
  revokeApiKey,
  revokeUserApiKeys,
  rollApiKey,
} from '../../src/modules/api-keys/api-keys.service.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { countQueries } from '../helpers/query-count.ts';

/** One route per method inside /api/v1, answering who called. */
async function probeRoutes(v1: FastifyInstance): Promise<void> {
  const handler = async (request: { principal: unknown }) => ({ data: request.principal });
  v1.get('/__probe', handler);
  v1.post('/__probe', handler);
  v1.put('/__probe', handler);
  v1.patch('/__probe', handler);
  v1.delete('/__probe', handler);
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('API key authentication on /api/v1', () => {
  let t: TestApp;
  const issued: string[] = [];
  beforeAll(async () => {
    t = await buildTestApp({
      overrides: { extraApiRoutes: probeRoutes },
      env: { LOG_LEVEL: 'debug', API_KEY_FAILURE_LIMIT: '1000' },
    });
  });
  afterEach(() => {
    t.app.apiKeys.verifier.now = Date.now;
  });
  afterAll(async () => {
    // The plaintext key never reaches a log line (debug level, whole file).
    await t.app.apiKeys.verifier.flushLastUsed();
    expect(t.logs.lines.length).toBeGreaterThan(0);
    for (const key of issued) {
      expect(t.logs.text).not.toContain(key);
      expect(t.logs.text).not.toContain(key.slice(3, 39));
    }
    await t.close();
  });

  async function key(opts: Parameters<typeof createTestKey>[1] = {}) {
    const k = await createTestKey(t.app, opts);
    issued.push(k.key);
    return k;
  }

  it('GET /api/v1/me answers the user, the key and the organisations', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000);
    const k = await key({ scopes: ['read'], name: 'CI', expiresAt });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: bearer(k.key) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: {
        user: {
          _id: k.userId,
          clerkUserId: k.clerkUserId,
          email: null,
          firstName: null,
          lastName: null,
          imageUrl: null,
        },
        key: {
          id: k.keyId,
          name: 'CI',
          scopes: ['read'],
          expiresAt: expiresAt.getTime(),
          workspace: null,
        },
        organisations: [],
      },
    });
  });

  it('reaches current organisations only: a removed member loses access at once', async () => {
    const k = await key({ scopes: ['read'] });
    const db = t.db.database.db;
    const [org] = await db
      .insert(organisations)
      .values({ clerkId: `org_${k.keyId.slice(0, 8)}`, name: 'Acme' })
      .returning();
    const [membership] = await db
      .insert(memberships)
      .values({ userId: k.userId, organisationId: org!.id, role: 'org:member' })
      .returning();
    const before = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
    expect(before.json().data.organisations).toEqual([
      { _id: org!.id, id: org!.clerkId, name: 'Acme', role: 'org:member' },
    ]);
    await db
      .update(memberships)
      .set({ deletedAt: new Date() })
      .where(eq(memberships.id, membership!.id));
    const after = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
    expect(after.statusCode).toBe(200);
    expect(after.json().data.organisations).toEqual([]);
  });

  describe('scope matrix', () => {
    const methods = [
      ['GET', 'read'],
      ['HEAD', 'read'],
      ['POST', 'write'],
      ['PUT', 'write'],
      ['PATCH', 'write'],
      ['DELETE', 'delete'],
    ] as const;
    const scopeSets: Scope[][] = [
      ['read'],
      ['write'],
      ['delete'],
      ['read', 'write'],
      ['read', 'delete'],
      ['write', 'delete'],
      ['read', 'write', 'delete'],
    ];
    for (const scopes of scopeSets) {
      it(`a key with [${scopes.join(', ')}]`, async () => {
        const k = await key({ scopes });
        for (const [method, needed] of methods) {
          const res = await t.app.inject({
            method,
            url: '/api/v1/__probe',
            headers: bearer(k.key),
            ...(method === 'POST' || method === 'PUT' || method === 'PATCH' ? { payload: {} } : {}),
          });
          if (scopes.includes(needed)) {
            expect(res.statusCode, `${method} with ${scopes}`).toBe(200);
            if (method !== 'HEAD') {
              expect(res.json().data).toEqual({
                keyId: k.keyId,
                userId: k.userId,
                scopes,
                workspaceId: null,
              });
            }
          } else {
            expect(res.statusCode, `${method} with ${scopes}`).toBe(403);
            expect(res.headers['www-authenticate']).toBe(
              `Bearer realm="MONOid", error="insufficient_scope", scope="${needed}", error_description="The request requires the ${needed} scope."`,
            );
            if (method !== 'HEAD') {
              const body = res.json();
              expect(body).toMatchObject({ code: 'INSUFFICIENT_SCOPE', status: 403, error: true });
              expect(body.detail).toContain(`"${needed}"`);
            }
          }
        }
      });
    }
  });

  describe('401 variants', () => {
    const expectInvalidToken = (res: {
      statusCode: number;
      headers: Record<string, unknown>;
      json: () => Record<string, unknown>;
    }) => {
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(
        /^Bearer realm="MONOid", error="invalid_token", error_description="[^"]+"$/,
      );
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401, error: true });
    };

    it('missing credentials: bare challenge without error=', async () => {
      for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }]) {
        const res = await t.app.inject({ url: '/api/v1/me', headers });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer realm="MONOid"');
        expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED' });
      }
    });

    it('malformed keys', async () => {
      for (const token of ['', 'mo_', 'not-a-key', `sk_${'a'.repeat(42)}`, 'mo_a b']) {
        expectInvalidToken(
          await t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } }),
        );
      }
    });

    it('bad checksum, without a database query', async () => {
      const k = await key();
      const last = k.key.at(-1) === 'a' ? 'b' : 'a';
      const typo = k.key.slice(0, -1) + last;
      const queries = countQueries(t.db.database);
      try {
        const res = await t.app.inject({ url: '/api/v1/me', headers: bearer(typo) });
        expectInvalidToken(res);
        expect(res.json().detail).toBe('The API key is malformed.');
        expect(queries.count).toBe(0);
      } finally {
        queries.restore();
      }
    });

    it('unknown key id and wrong secret answer alike', async () => {
      const k = await key();
      const unknown = generateApiKey().key;
      const body = `${k.key.slice(0, 15)}${generateApiKey().secret}`;
      const wrongSecret = `${body}${checksumOf(body)}`;
      const a = await t.app.inject({ url: '/api/v1/me', headers: bearer(unknown) });
      const b = await t.app.inject({ url: '/api/v1/me', headers: bearer(wrongSecret) });
      expectInvalidToken(a);
      expectInvalidToken(b);
      expect(a.headers['www-authenticate']).toBe(b.headers['www-authenticate']);
      expect(a.json().detail).toBe(b.json().detail);
      // The right key still works after a wrong one for its id.
      const ok = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
      expect(ok.statusCode).toBe(200);
    });

    it('revoked: API_KEY_REVOKED, also on a warm cache', async () => {
      const k = await key();
      expect((await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) })).statusCode).toBe(
        200,
      );
      await revokeApiKey(t.app.apiKeys.deps, { id: k.keyId, reason: 'leaked' });
      const res = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'API_KEY_REVOKED' });
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    });

    it('expired at the boundary: valid 1 ms before expiresAt, expired at it (warm and cold)', async () => {
      const expiresAt = new Date(Date.now() + 60_000);
      const k = await key({ expiresAt });
      const verifier = t.app.apiKeys.verifier;
      verifier.now = () => expiresAt.getTime() - 1;
      expect((await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) })).statusCode).toBe(
        200,
      );
      verifier.now = () => expiresAt.getTime();
      const warm = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
      expect(warm.statusCode).toBe(401);
      expect(warm.json()).toMatchObject({ code: 'API_KEY_EXPIRED' });
      expect(warm.headers['www-authenticate']).toMatch(/error="invalid_token"/);
      verifier.invalidateLocal({ keyId: k.keyId });
      const cold = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
      expect(cold.json()).toMatchObject({ code: 'API_KEY_EXPIRED' });
      verifier.now = () => expiresAt.getTime() - 1;
      expect((await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) })).statusCode).toBe(
        200,
      );
    });
  });

  it('a warm key costs no database query and no argon2', async () => {
    const k = await key({ scopes: ['read'] });
    const { hasher, verifier } = t.app.apiKeys;
    const first = await t.app.inject({ url: '/api/v1/__probe', headers: bearer(k.key) });
    expect(first.statusCode).toBe(200);
    const hashes = hasher.operations;
    const hits = verifier.stats.cacheHits;
    const queries = countQueries(t.db.database);
    try {
      for (let i = 0; i < 20; i++) {
        const res = await t.app.inject({ url: '/api/v1/__probe', headers: bearer(k.key) });
        expect(res.statusCode).toBe(200);
      }
      expect(queries.count).toBe(0);
    } finally {
      queries.restore();
    }
    expect(hasher.operations).toBe(hashes);
    expect(verifier.stats.cacheHits).toBe(hits + 20);
  });

  it('a cold verification costs one lookup and one argon2 verify', async () => {
    const k = await key({ scopes: ['read'] });
    t.app.apiKeys.verifier.invalidateLocal({ keyId: k.keyId });
    const hashes = t.app.apiKeys.hasher.operations;
    const queries = countQueries(t.db.database);
    try {
      const res = await t.app.inject({ url: '/api/v1/__probe', headers: bearer(k.key) });
      expect(res.statusCode).toBe(200);
      expect(queries.count).toBe(1);
      expect(queries.statements[0]).toMatch(/from "api_keys"/);
    } finally {
      queries.restore();
    }
    expect(t.app.apiKeys.hasher.operations).toBe(hashes + 1);
  });

  it('concurrent cold requests for one key share one verification', async () => {
    const k = await key({ scopes: ['read'] });
    t.app.apiKeys.verifier.invalidateLocal({ keyId: k.keyId });
    const hashes = t.app.apiKeys.hasher.operations;
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        t.app.inject({ url: '/api/v1/__probe', headers: bearer(k.key) }),
      ),
    );
    for (const r of results) expect(r.statusCode).toBe(200);
    expect(t.app.apiKeys.hasher.operations).toBe(hashes + 1);
  });

  it('roll: the old key stops at once by default (warm cache), the new key works', async () => {
    const k = await key({ scopes: ['read', 'write'], name: 'deploy' });
    expect((await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) })).statusCode).toBe(
      200,
    );
    const rolled = await rollApiKey(t.app.apiKeys.deps, { userId: k.userId, id: k.keyId });
    issued.push(rolled.key);
    const old = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
    expect(old.statusCode).toBe(401);
    expect(old.json()).toMatchObject({ code: 'API_KEY_EXPIRED' });
    const fresh = await t.app.inject({ url: '/api/v1/me', headers: bearer(rolled.key) });
    expect(fresh.statusCode).toBe(200);
    expect(fresh.json().data.key).toMatchObject({ name: 'deploy', scopes: ['read', 'write'] });
  });

  it('roll with a grace period keeps the old key working until then', async () => {
    const k = await key();
    const until = new Date(Date.now() + 3_600_000);
    const rolled = await rollApiKey(t.app.apiKeys.deps, {
      userId: k.userId,
      id: k.keyId,
      oldKeyExpiresAt: until,
    });
    issued.push(rolled.key);
    expect((await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) })).statusCode).toBe(
      200,
    );
    t.app.apiKeys.verifier.now = () => until.getTime();
    const after = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
    expect(after.json()).toMatchObject({ code: 'API_KEY_EXPIRED' });
  });

  it('bad input to the create service writes nothing, not even the user row', async () => {
    await expect(
      createApiKeyForClerkUser(t.app.apiKeys.deps, {
        clerkUserId: 'user_bad_input',
        name: 'x',
        scopes: ['admin'],
      }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', status: 400 });
    expect(await findUserByClerkId(t.db.database.db, 'user_bad_input')).toBeUndefined();
  });

  it('deleting a user revokes all their keys at once', async () => {
    const a = await key({ clerkUserId: 'user_to_delete' });
    const b = await key({ clerkUserId: 'user_to_delete', scopes: ['read'] });
    for (const k of [a, b]) {
      expect((await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) })).statusCode).toBe(
        200,
      );
    }
    expect(await revokeUserApiKeys(t.app.apiKeys.deps, { userId: a.userId })).toBe(2);
    for (const k of [a, b]) {
      const res = await t.app.inject({ url: '/api/v1/me', headers: bearer(k.key) });
      expect(res.json()).toMatchObject({ code: 'API_KEY_REVOKED' });
    }
  });
});
