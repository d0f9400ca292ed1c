import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeys, securityEvents } from '../../src/db/schema.ts';
import {
  API_KEY_PATTERN,
  checksumOf,
  generateApiKey,
} from '../../src/modules/api-keys/api-key.format.ts';
import { tokenHash } from '../../src/modules/api-keys/leak-report.service.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, secondHandle, type TestDatabase } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';
import {
  type GithubSigningKey,
  githubSignature,
  githubSigningKey,
  startGithubKeysFake,
} from '../helpers/fakes/github-keys-fake.ts';

describe('leaked keys reported by GitHub secret scanning', () => {
  let db: TestDatabase;
  let second: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let github: Awaited<ReturnType<typeof startGithubKeysFake>>;
  const current = githubSigningKey('key-2026-a');

  beforeAll(async () => {
    github = await startGithubKeysFake([current]);
    db = await createTestDatabase();
    second = await secondHandle(db);
    // A TTL far longer than the test: only the invalidation can make instance B forget a key.
    const env = {
      API_KEY_CACHE_TTL_MS: '3600000',
      GITHUB_SECRET_SCANNING_KEYS_URL: github.keysUrl,
    };
    a = await buildTestApp({ db, env });
    b = await buildTestApp({ db: second, env });
  });
  afterAll(async () => {
    await b.close();
    await second.destroy();
    await a.close();
    await db.destroy();
    await github.close();
  });

  const me = (t: TestApp, key: string) =>
    t.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });

  const report = (
    items: Array<{ token: string; url?: string }>,
    opts: {
      signer?: GithubSigningKey;
      identifier?: string;
      body?: string;
      signature?: string;
    } = {},
  ) => {
    const body =
      opts.body ??
      JSON.stringify(
        items.map((i) => ({
          token: i.token,
          type: 'monoid_api_key',
          url: i.url ?? 'https://github.com/someone/repo/blob/abc/config.js',
          source: 'content',
        })),
      );
    const signer = opts.signer ?? current;
    return a.app.inject({
      method: 'POST',
      url: '/webhooks/github/secret-scanning',
      headers: {
        'content-type': 'application/json',
        'github-public-key-identifier': opts.identifier ?? signer.identifier,
        'github-public-key-signature': opts.signature ?? githubSignature(signer, body),
      },
      payload: body,
    });
  };

  const revokedAt = async (keyId: string) => {
    const [row] = await db.database.db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
    return row?.revokedAt ?? null;
  };

  it('a valid report revokes the key: refused at once on this instance and within a second on another', async () => {
    const k = await createTestKey(a.app);
    // Both instances have the key cached (warm): only an invalidation can refuse it.
    expect((await me(a, k.key)).statusCode).toBe(200);
    expect((await me(b, k.key)).statusCode).toBe(200);
    expect((await me(b, k.key)).statusCode).toBe(200);

    const url = 'https://github.com/someone/repo/blob/abc/.env';
    const res = await report([{ token: k.key, url }]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { token_hash: tokenHash(k.key), token_type: 'monoid_api_key', label: 'true_positive' },
    ]);
    expect((await me(a, k.key)).json().code).toBe('API_KEY_REVOKED');
    const started = Date.now();
    expect(await eventually(async () => (await me(b, k.key)).statusCode === 401, 1_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect((await me(b, k.key)).json().code).toBe('API_KEY_REVOKED');

    const [row] = await db.database.db.select().from(apiKeys).where(eq(apiKeys.id, k.keyId));
    expect(row?.revokeReason).toBe(`leaked: ${url}`);
    // Recorded for the owner, once, as the system acting on a leak report.
    const events = await db.database.db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.targetId, k.keyId));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'api_key.revoked',
      userId: k.userId,
      actorUserId: null,
      cause: 'leak_report',
      targetType: 'api_key',
    });
    expect(JSON.stringify(events)).not.toContain(k.key);

    // Reported again: already revoked is still a true positive, and nothing changes.
    const again = await report([{ token: k.key }]);
    expect(again.json()[0].label).toBe('true_positive');
    const [after] = await db.database.db.select().from(apiKeys).where(eq(apiKeys.id, k.keyId));
    expect(after?.revokedAt).toEqual(row?.revokedAt);
    expect(after?.revokeReason).toBe(`leaked: ${url}`);
  });

  it('labels non-mo_ tokens, bad checksums, unknown keys and wrong secrets false_positive and revokes nothing', async () => {
    const k = await createTestKey(a.app);
    const body = k.key.slice(0, -6);
    const badChecksum = `${body}${checksumOf(body) === '000000' ? '000001' : '000000'}`;
    const unknown = generateApiKey().key;
    // The key's public id with another secret (and a valid checksum): the hash must verify.
    const wrongSecretBody = `${k.key.slice(0, 15)}${'A'.repeat(24)}`;
    const wrongSecret = `${wrongSecretBody}${checksumOf(wrongSecretBody)}`;
    const tokens = ['ghp_notoursatall1234567890', badChecksum, unknown, wrongSecret];
    const res = await report(tokens.map((token) => ({ token })));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(
      tokens.map((t) => ({
        token_hash: tokenHash(t),
        token_type: 'monoid_api_key',
        label: 'false_positive',
      })),
    );
    expect(await revokedAt(k.keyId)).toBeNull();
    expect((await me(a, k.key)).statusCode).toBe(200);
  });

  it('a batch mixes genuine and false tokens; the same key twice is revoked once', async () => {
    const k1 = await createTestKey(a.app);
    const k2 = await createTestKey(a.app);
    const res = await report([
      { token: k1.key },
      { token: 'nope' },
      { token: k2.key },
      { token: k1.key },
    ]);
    expect(res.json().map((f: { label: string }) => f.label)).toEqual([
      'true_positive',
      'false_positive',
      'true_positive',
      'true_positive',
    ]);
    expect(await revokedAt(k1.keyId)).not.toBeNull();
    expect(await revokedAt(k2.keyId)).not.toBeNull();
    const events = await db.database.db
      .select()
      .from(securityEvents)
      .where(eq(securityEvents.targetId, k1.keyId));
    expect(events).toHaveLength(1);
  });

  it('forged, unsigned, wrong-key and altered reports answer 401 and revoke nothing', async () => {
    const k = await createTestKey(a.app);
    const intruder = githubSigningKey(current.identifier);
    const body = JSON.stringify([
      { token: k.key, type: 'monoid_api_key', url: 'x', source: 'content' },
    ]);
    const other = githubSigningKey('key-unknown');
    const attempts = [
      // Signed with another private key under GitHub's identifier.
      await report([], { body, signature: githubSignature(intruder, body) }),
      // GitHub's signature, but the body altered after signing.
      await report([], {
        body: body.replace('"x"', '"y"'),
        signature: githubSignature(current, body),
      }),
      // A valid signature by a key GitHub does not list.
      await report([], { body, signer: other }),
      // The right signature under another listed-looking identifier.
      await report([], {
        body,
        identifier: 'key-2026-zzz',
        signature: githubSignature(current, body),
      }),
      // Garbage signature.
      await report([], { body, signature: 'bm90IGEgc2lnbmF0dXJl' }),
    ];
    const unsigned = await a.app.inject({
      method: 'POST',
      url: '/webhooks/github/secret-scanning',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    for (const res of [...attempts, unsigned]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await revokedAt(k.keyId)).toBeNull();
    expect((await me(a, k.key)).statusCode).toBe(200);
    // Nothing about the signature or the key in the logs.
    expect(a.logs.text).not.toContain(k.key);
  });

  it('malformed but signed reports answer 400 and revoke nothing', async () => {
    const k = await createTestKey(a.app);
    for (const body of [
      'not json',
      JSON.stringify({ token: k.key, type: 't' }),
      JSON.stringify([{ token: k.key }]),
      JSON.stringify([{ token: 42, type: 't' }]),
    ]) {
      const res = await report([], { body });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('BAD_REQUEST');
    }
    expect(await revokedAt(k.keyId)).toBeNull();
  });

  it('fetches GitHub keys once, refetches on a new identifier (rotation), never per request', async () => {
    const k = await createTestKey(a.app);
    const before = github.state.requests;
    expect((await report([{ token: 'x' }])).statusCode).toBe(200);
    expect((await report([{ token: 'y' }])).statusCode).toBe(200);
    expect(github.state.requests).toBe(before); // cached since the first test

    // Unknown identifiers in a flood cost at most one fetch per interval.
    const stranger = githubSigningKey('key-stranger');
    for (let i = 0; i < 5; i++) {
      expect((await report([{ token: 'z' }], { signer: stranger })).statusCode).toBe(401);
    }
    expect(github.state.requests - before).toBeLessThanOrEqual(1);

    // GitHub rotates: a new identifier appears. Past the refetch interval, it is fetched.
    const rotated = githubSigningKey('key-2026-b');
    github.state.keys.push(rotated);
    const keys = a.app.apiKeys.githubKeys;
    const realNow = keys.now;
    keys.now = () => realNow() + 61_000;
    try {
      const requestsBefore = github.state.requests;
      const res = await report([{ token: k.key }], { signer: rotated });
      expect(res.statusCode).toBe(200);
      expect(res.json()[0].label).toBe('true_positive');
      expect(github.state.requests).toBe(requestsBefore + 1);
      // The old key still verifies without another fetch.
      expect((await report([{ token: 'w' }])).statusCode).toBe(200);
      expect(github.state.requests).toBe(requestsBefore + 1);
    } finally {
      keys.now = realNow;
    }
    expect(await revokedAt(k.keyId)).not.toBeNull();
  });

  it('documents a pattern that matches every generated key', () => {
    for (let i = 0; i < 50; i++) expect(API_KEY_PATTERN.test(generateApiKey().key)).toBe(true);
  });
});
