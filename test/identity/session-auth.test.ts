import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberships, organisations, users } from '../../src/db/schema.ts';
import { requireOrgAdmin } from '../../src/modules/identity/identity.guards.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import {
  clerkEnv,
  mintSessionToken,
  sessionCookieHeaders,
  testPublishableKey,
} from '../helpers/clerk.ts';

const now = () => Math.floor(Date.now() / 1000);

// A route behind the admin guard, registered the way other features will use it.
async function guardedRoute(app: FastifyInstance): Promise<void> {
  const { sessionAuth } = await import('../../src/modules/identity/session-auth.plugin.ts');
  await app.register(
    async (settings) => {
      await settings.register(sessionAuth);
      settings.get('/admin-only', { preHandler: requireOrgAdmin }, async (request) => ({
        ok: true,
        organisationId: request.sessionUser?.activeOrganisationId,
      }));
    },
    { prefix: '/__test/settings' },
  );
}

describe('session auth on /api/settings', () => {
  let t: TestApp;
  // Clerk's Backend API, faked on loopback: verification must never call it.
  let clerkApi: Server;
  const clerkApiCalls: string[] = [];
  // Every fetch the process makes (Clerk's SDK uses fetch), loopback or not.
  const fetched: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      fetched.push(input instanceof Request ? input.url : String(input));
      return realFetch(input, init);
    }) as typeof fetch;
    clerkApi = createServer((req, res) => {
      clerkApiCalls.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => clerkApi.listen(0, '127.0.0.1', resolve));
    const { port } = clerkApi.address() as AddressInfo;
    t = await buildTestApp({
      env: clerkEnv({ CLERK_API_URL: `http://127.0.0.1:${port}` }),
      overrides: { extraRoutes: guardedRoute },
    });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => clerkApi.close(resolve));
    globalThis.fetch = realFetch;
    // No request left the process and none reached Clerk's API, whatever the tests sent.
    expect(clerkApiCalls).toEqual([]);
    expect(fetched).toEqual([]);
  });

  const me = (headers: Record<string, string>) =>
    t.app.inject({ method: 'GET', url: '/api/settings/me', headers });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it('answers 401 with a bare challenge when no credentials are sent', async () => {
    const res = await me({});
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="MONOid"');
    expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401, error: true });
  });

  it('creates the user on first sight and returns /me in the personal workspace', async () => {
    const res = await me(bearer(mintSessionToken({ sub: 'user_first' })));
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.user).toMatchObject({ clerkId: 'user_first', email: null });
    expect(body.data.memberships).toEqual([]);
    expect(body.data.activeWorkspace).toEqual({
      type: 'personal',
      organisationId: null,
      organisationClerkId: null,
      name: null,
      role: null,
    });
    const rows = await t.db.database.db.select().from(users);
    expect(rows.filter((u) => u.clerkId === 'user_first')).toHaveLength(1);
    // Second request: same row, no duplicate.
    expect((await me(bearer(mintSessionToken({ sub: 'user_first' })))).json().data.user.id).toBe(
      body.data.user.id,
    );
  });

  it('concurrent first requests create one user, organisation and membership', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() =>
        me(
          bearer(mintSessionToken({ sub: 'user_race', orgId: 'org_race', orgRole: 'org:member' })),
        ),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200]);
    const db = t.db.database.db;
    const [user, ...moreUsers] = (await db.select().from(users)).filter(
      (u) => u.clerkId === 'user_race',
    );
    expect(moreUsers).toEqual([]);
    expect(
      (await db.select().from(organisations)).filter((o) => o.clerkId === 'org_race'),
    ).toHaveLength(1);
    expect((await db.select().from(memberships)).filter((m) => m.userId === user?.id)).toHaveLength(
      1,
    );
  });

  it('rejects an expired token', async () => {
    const res = await me(
      bearer(mintSessionToken({ sub: 'user_x', iat: now() - 120, exp: now() - 60 })),
    );
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(res.json().detail).toMatch(/expired/);
    expect(res.headers['x-clerk-auth-message']).toBeUndefined();
  });

  it('rejects a token that is not valid yet', async () => {
    const res = await me(bearer(mintSessionToken({ sub: 'user_x', nbf: now() + 120 })));
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/not valid yet/);
  });

  it('rejects a token for another authorized party (azp)', async () => {
    const res = await me(bearer(mintSessionToken({ sub: 'user_x', azp: 'https://evil.example' })));
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/azp/);
  });

  it('rejects a token signed with another key, and garbage', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = mintSessionToken({ sub: 'user_x', privateKey: other.privateKey });
    expect((await me(bearer(forged))).statusCode).toBe(401);
    expect((await me(bearer('not.a.jwt'))).statusCode).toBe(401);
    const key = await me(bearer('mo_live_abcdefabcdefabcdef'));
    expect(key.statusCode).toBe(401);
    expect(key.json().detail).toMatch(/API keys cannot/);
    const basic = await me({ authorization: 'Basic dXNlcjpwYXNz' });
    expect(basic.statusCode).toBe(401);
    // Opaque machine tokens are refused before Clerk would verify them over its API.
    for (const opaque of ['ak_1234567890abcdef', 'mt_1234567890abcdef', 'oat_1234567890abcdef']) {
      expect((await me(bearer(opaque))).statusCode).toBe(401);
    }
    // Nothing was created for the rejected subject.
    const rows = await t.db.database.db.select().from(users);
    expect(rows.some((u) => u.clerkId === 'user_x')).toBe(false);
  });

  it('accepts the __session cookie', async () => {
    const token = mintSessionToken({ sub: 'user_cookie' });
    const res = await me(sessionCookieHeaders(token));
    expect(res.statusCode).toBe(200);
    expect(res.json().data.user.clerkId).toBe('user_cookie');
  });

  it('refuses an expired cookie token without trying to refresh it through Clerk', async () => {
    const expired = mintSessionToken({ sub: 'user_refresh', iat: now() - 120, exp: now() - 60 });
    const headers = sessionCookieHeaders(expired);
    // Clerk's suffixed cookie name: first 8 chars of base64url(sha1(publishable key)).
    const suffix = createHash('sha1')
      .update(testPublishableKey)
      .digest('base64')
      .replaceAll('+', '-')
      .replaceAll('/', '_')
      .slice(0, 8);
    headers.cookie += `; __refresh_${suffix}=rt_secret; __refresh=rt_secret`;
    const res = await me(headers);
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/expired/);
  });

  it.each([1, 2] as const)('reads the active organisation from v%i org claims', async (v) => {
    const token = mintSessionToken({
      sub: `user_v${v}`,
      orgId: `org_v${v}`,
      orgRole: 'org:admin',
      orgSlug: `acme-${v}`,
      claimsVersion: v,
    });
    const res = await me(bearer(token));
    expect(res.statusCode).toBe(200);
    const body = res.json().data;
    expect(body.activeWorkspace).toMatchObject({
      type: 'organisation',
      organisationClerkId: `org_v${v}`,
      name: `acme-${v}`,
      role: 'org:admin',
    });
    expect(body.memberships).toEqual([
      expect.objectContaining({
        role: 'org:admin',
        organisation: expect.objectContaining({ clerkId: `org_v${v}`, slug: `acme-${v}` }),
      }),
    ]);
  });

  it('guards admin-only routes', async () => {
    const call = (token: string) =>
      t.app.inject({ method: 'GET', url: '/__test/settings/admin-only', headers: bearer(token) });
    const admin = await call(
      mintSessionToken({ sub: 'user_adm', orgId: 'org_g', orgRole: 'org:admin' }),
    );
    expect(admin.statusCode).toBe(200);
    const member = await call(
      mintSessionToken({
        sub: 'user_mem',
        orgId: 'org_g',
        orgRole: 'org:member',
        claimsVersion: 2,
      }),
    );
    expect(member.statusCode).toBe(403);
    expect(member.json().code).toBe('FORBIDDEN');
    const personal = await call(mintSessionToken({ sub: 'user_adm' }));
    expect(personal.statusCode).toBe(403);
    expect(personal.json().detail).toMatch(/active organisation/);
    expect(
      (await t.app.inject({ method: 'GET', url: '/__test/settings/admin-only' })).statusCode,
    ).toBe(401);
  });

  it('applies an ended membership on the very next request despite a valid token', async () => {
    const token = mintSessionToken({
      sub: 'user_end',
      orgId: 'org_end',
      orgRole: 'org:admin',
      iat: now() - 10,
    });
    expect((await me(bearer(token))).statusCode).toBe(200);
    const db = t.db.database.db;
    // What the membership.deleted webhook does (event newer than the token).
    const [org] = await db.select().from(organisations);
    expect(org).toBeDefined();
    await db.update(memberships).set({ deletedAt: new Date(), clerkEventAt: Date.now() });
    const res = await me(bearer(token));
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('FORBIDDEN');
    // The user still works in the personal workspace.
    expect((await me(bearer(mintSessionToken({ sub: 'user_end' })))).statusCode).toBe(200);
  });

  it('documents the identity routes in /openapi.json', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    const meOp = doc.paths['/api/settings/me'].get;
    expect(Object.keys(meOp.responses).sort()).toEqual(['200', '401', '403', '429', '503']);
    expect(meOp.security).toEqual([{ session: [] }]);
    expect(doc.paths['/webhooks/clerk'].post.responses['401']).toBeDefined();
    expect(doc.components.schemas.SettingsMe).toBeDefined();
  });

  it('does not leak any token into the logs', async () => {
    const token = mintSessionToken({ sub: 'user_log' });
    await me(bearer(token));
    await me(bearer(`${token}x`));
    expect(t.logs.text).not.toContain(token.split('.')[2]);
  });
});

describe('session auth without Clerk configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('still starts and answers 503 naming the variables', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/settings/me',
      headers: { authorization: `Bearer ${mintSessionToken({ sub: 'user_1' })}` },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(res.json().detail).toContain('CLERK_SECRET_KEY');
    expect(res.json().detail).toContain('CLERK_PUBLISHABLE_KEY');
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('session auth without CLERK_AUTHORIZED_PARTIES', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ env: clerkEnv({ CLERK_AUTHORIZED_PARTIES: undefined }) });
  });
  afterAll(async () => t.close());

  it('does not check azp', async () => {
    const token = mintSessionToken({ sub: 'user_any', azp: 'https://elsewhere.example' });
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/settings/me',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
  });
});
