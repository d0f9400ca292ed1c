import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf, generateApiKey } from '../../src/modules/api-keys/api-key.format.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

// Security findings 3 (the failed-key throttle locked out valid keys) and 10 (unknown ids
// were refused faster than known ones).

const me = (t: TestApp, key: string, remoteAddress: string) =>
  t.app.inject({ url: '/api/v1/me', remoteAddress, headers: { authorization: `Bearer ${key}` } });

/** The key's public id with another (valid-checksum) secret. */
function wrongSecretFor(key: string): string {
  const body = `${key.slice(0, 15)}${generateApiKey().secret}`;
  return `${body}${checksumOf(body)}`;
}

describe('failed-key throttle', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      env: {
        API_KEY_ARGON2_MEMORY_KIB: '1024',
        API_KEY_ARGON2_TIME_COST: '1',
        API_KEY_FAILURE_LIMIT: '3',
        API_KEY_ID_FAILURE_LIMIT: '6',
        // Every request is a cold verification: the throttle is what is under test.
        API_KEY_CACHE_TTL_MS: '0',
        API_RATE_LIMIT_PER_MINUTE: '100000',
      },
    });
  });
  afterAll(async () => t.close());

  it('other keys’ failures from the same address never refuse a valid key', async () => {
    const address = '198.51.100.20';
    const victim = await createTestKey(t.app, { scopes: ['read'] });
    for (let i = 0; i < 8; i++) {
      expect((await me(t, generateApiKey().key, address)).statusCode).toBe(401);
    }
    // A valid key never seen before, from the very address that failed eight times.
    expect((await me(t, victim.key, address)).statusCode).toBe(200);
  });

  it('counts per (address, key id): that id is throttled there, before any lookup or hash', async () => {
    const address = '198.51.100.21';
    const target = await createTestKey(t.app, { scopes: ['read'] });
    expect((await me(t, target.key, '198.51.100.29')).statusCode).toBe(200);
    const wrong = wrongSecretFor(target.key);
    for (let i = 0; i < 3; i++) expect((await me(t, wrong, address)).statusCode).toBe(401);
    const hashes = t.app.apiKeys.hasher.operations;
    const refused = await me(t, wrong, address);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['ratelimit-policy']).toBe('"api-key-failures";q=3;w=60');
    expect(t.app.apiKeys.hasher.operations).toBe(hashes);
    // Another address guessing the same id still gets 401 (until the per-id limit)...
    expect((await me(t, wrong, '198.51.100.22')).statusCode).toBe(401);
    // ...and the real key (it verified before, on another address) works from the attacker's.
    expect((await me(t, target.key, address)).statusCode).toBe(200);
  });

  it('counts per key id from every address; a key that verified recently is exempt', async () => {
    const target = await createTestKey(t.app, { scopes: ['read'] });
    expect((await me(t, target.key, '198.51.100.30')).statusCode).toBe(200);
    const wrong = wrongSecretFor(target.key);
    // Rotating addresses: each stays under its own limit, the id's counter fills up.
    for (let i = 0; i < 6; i++) {
      expect((await me(t, wrong, `203.0.113.${100 + i}`)).statusCode).toBe(401);
    }
    const refused = await me(t, wrong, '203.0.113.200');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['ratelimit-policy']).toBe('"api-key-id-failures";q=6;w=60');
    // The owner's key, verified a moment ago, keeps working from anywhere.
    expect((await me(t, target.key, '203.0.113.201')).statusCode).toBe(200);
    expect((await me(t, target.key, '198.51.100.30')).statusCode).toBe(200);
  });

  it('refuses an unknown id only after the same argon2 verify a wrong secret costs', async () => {
    const known = await createTestKey(t.app, { scopes: ['read'] });
    await me(t, generateApiKey().key, '198.51.100.40'); // the dummy hash is made once
    const before = t.app.apiKeys.hasher.operations;
    expect((await me(t, wrongSecretFor(known.key), '198.51.100.40')).statusCode).toBe(401);
    const forWrongSecret = t.app.apiKeys.hasher.operations - before;
    expect((await me(t, generateApiKey().key, '198.51.100.41')).statusCode).toBe(401);
    const forUnknownId = t.app.apiKeys.hasher.operations - before - forWrongSecret;
    expect(forWrongSecret).toBe(1);
    expect(forUnknownId).toBe(forWrongSecret);
  });
});

describe('a bad-key flood from one address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      env: {
        // A slow hash and a short queue, so that a flood really fills it.
        API_KEY_ARGON2_MEMORY_KIB: '8192',
        API_KEY_ARGON2_TIME_COST: '2',
        API_KEY_HASH_CONCURRENCY: '1',
        API_KEY_HASH_QUEUE_MAX: '2',
        API_KEY_FAILURE_LIMIT: '100000',
        API_KEY_ID_FAILURE_LIMIT: '100000',
        API_KEY_CACHE_TTL_MS: '0',
        API_RATE_LIMIT_PER_MINUTE: '100000',
      },
    });
  });
  afterAll(async () => t.close());

  it('leaves a valid key from the same address working (success rate reported)', async () => {
    const address = '198.51.100.50';
    const valid = await createTestKey(t.app, { scopes: ['read'] });
    expect((await me(t, valid.key, address)).statusCode).toBe(200);
    const flood: Array<Promise<number>> = [];
    const legit: Array<Promise<number>> = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 20; i++) {
        flood.push(me(t, generateApiKey().key, address).then((r) => r.statusCode));
      }
      legit.push(me(t, valid.key, address).then((r) => r.statusCode));
    }
    const floodCodes = await Promise.all(flood);
    const legitCodes = await Promise.all(legit);
    const ok = legitCodes.filter((c) => c === 200).length;
    console.log(
      `bad-key flood: valid key ${ok}/${legitCodes.length} ok; flood answers ${JSON.stringify(
        Object.fromEntries(
          [...new Set(floodCodes)].map((c) => [c, floodCodes.filter((x) => x === c).length]),
        ),
      )}`,
    );
    expect(legitCodes).toEqual(legitCodes.map(() => 200));
    // The flood was held at the address's cap, or shed: nothing of it was let through.
    expect(floodCodes.every((c) => c === 401 || c === 429 || c === 503)).toBe(true);
    expect(floodCodes.filter((c) => c === 429).length).toBeGreaterThan(0);
  });
});
