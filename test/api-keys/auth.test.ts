import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/modules/api-keys/api-key.format.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

describe('API key authentication on /api/v1', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('GET /api/v1/me answers the user, the key and organisations', async () => {
    const k = await createTestKey(t.app, { scopes: ['read'], name: 'CI' });
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${k.key}` },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      data: {
        user: expect.objectContaining({ _id: k.userId, clerkUserId: k.clerkUserId }),
        key: { id: k.keyId, name: 'CI', scopes: ['read'], expiresAt: null },
        organisations: [],
      },
    });
  });

  it('answers 401 with a bare challenge when no credentials are sent', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="MONOid"');
    expect(res.json()).toMatchObject({ code: 'UNAUTHORIZED', status: 401, error: true });
  });

  it('answers 401 invalid_token for an unknown key', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${generateApiKey().key}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="MONOid", error="invalid_token"/,
    );
  });
});
