import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf, generateApiKey } from '../../src/modules/api-keys/api-key.format.ts';
import { ApiKeyHasher } from '../../src/modules/api-keys/api-key.hasher.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { countQueries } from '../helpers/query-count.ts';

const me = (t: TestApp, key: string | undefined, remoteAddress = '203.0.113.7') =>
  t.app.inject({
    url: '/api/v1/me',
    remoteAddress,
    headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
  });

describe('rate limits and failure throttling', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      env: { API_RATE_LIMIT_PER_MINUTE: '5', API_KEY_FAILURE_LIMIT: '3' },
    });
  });
  afterAll(async () => t.close());

  it('limits per key: RateLimit headers on every answer, then 429 with Retry-After', async () => {
    const k = await createTestKey(t.app, { scopes: ['read'] });
    const other = await createTestKey(t.app, { scopes: ['read'] });
    for (let i = 0; i < 5; i++) {
      const res = await me(t, k.key, '198.51.100.1');
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-policy']).toBe('"api-key";q=5;w=60');
      expect(res.headers.ratelimit).toMatch(new RegExp(`^"api-key";r=${4 - i};t=\\d+$`));
    }
    const limited = await me(t, k.key, '198.51.100.2');
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429, error: true });
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.headers['ratelimit-policy']).toBe('"api-key";q=5;w=60');
    expect(limited.headers.ratelimit).toBe(`"api-key";r=0;t=${retryAfter}`);
    // Another key (same address) has its own budget.
    expect((await me(t, other.key, '198.51.100.1')).statusCode).toBe(200);
  });

  it('throttles repeated failures per (address, key id) before any lookup or hashing', async () => {
    const address = '192.0.2.50';
    const k = await createTestKey(t.app, { scopes: ['read'] });
    // Warm this key's cache entry from the same address first.
    expect((await me(t, k.key, address)).statusCode).toBe(200);
    const body = `${k.key.slice(0, 15)}${generateApiKey().secret}`;
    const wrongSecret = `${body}${checksumOf(body)}`;
    for (let i = 0; i < 3; i++) {
      expect((await me(t, wrongSecret, address)).statusCode).toBe(401);
    }
    const hashes = t.app.apiKeys.hasher.operations;
    const queries = countQueries(t.db.database);
    try {
      for (const key of [wrongSecret, wrongSecret]) {
        const res = await me(t, key, address);
        expect(res.statusCode).toBe(429);
        expect(res.json().code).toBe('RATE_LIMITED');
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(res.headers['ratelimit-policy']).toBe('"api-key-failures";q=3;w=60');
      }
      expect(queries.count).toBe(0);
    } finally {
      queries.restore();
    }
    expect(t.app.apiKeys.hasher.operations).toBe(hashes);
    // The legitimate, cached key keeps working from that address...
    expect((await me(t, k.key, address)).statusCode).toBe(200);
    // ...other key ids from that address are unaffected (they have their own counters)...
    expect((await me(t, generateApiKey().key, address)).statusCode).toBe(401);
    // ...and so are other addresses.
    expect((await me(t, wrongSecret, '192.0.2.51')).statusCode).toBe(401);
  });

  it('limits unauthenticated calls per address', async () => {
    const address = '192.0.2.60';
    for (let i = 0; i < 3; i++) {
      const res = await me(t, undefined, address);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="MONOid"');
    }
    const limited = await me(t, undefined, address);
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await me(t, undefined, '192.0.2.61')).statusCode).toBe(401);
  });
});

describe('argon2 concurrency bound', () => {
  it('answers 503 with Retry-After when the verification queue is full', async () => {
    const hasher = new ApiKeyHasher(
      { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
      { concurrency: 1, queueMax: 1 },
    );
    const phc = await hasher.hash('secret');
    const running = hasher.verify(phc, 'secret');
    const queued = hasher.verify(phc, 'nope');
    await expect(hasher.verify(phc, 'secret')).rejects.toMatchObject({
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      headers: { 'retry-after': '1' },
    });
    await expect(running).resolves.toBe(true);
    await expect(queued).resolves.toBe(false);
    expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});

const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379/15';
async function redisReachable(): Promise<boolean> {
  const probe = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

describe.runIf(await redisReachable())('Redis store (REDIS_URL)', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase();
    const env = { REDIS_URL: redisUrl, API_RATE_LIMIT_PER_MINUTE: '4' };
    a = await buildTestApp({ db, env });
    b = await buildTestApp({ db, env });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.destroy();
  });

  it('shares the per-key counter between instances', async () => {
    expect(a.app.rateLimitRedis).not.toBeNull();
    const k = await createTestKey(a.app, { scopes: ['read'] });
    const codes = [];
    for (const t of [a, b, a, b]) codes.push((await me(t, k.key)).statusCode);
    expect(codes).toEqual([200, 200, 200, 200]);
    const last = await me(b, k.key);
    expect(last.statusCode).toBe(429);
    expect(last.headers.ratelimit).toMatch(/^"api-key";r=0;t=\d+$/);
  });
});
