/**
 * Leak-report benchmark (not a test). Run:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/leak-report.ts
 * (a fresh database is created on that server and dropped afterwards; embedded without it).
 *
 * Production argon2id parameters. Two app instances on one database, GitHub's key endpoint
 * faked on loopback. Measured in one run:
 *   1. a signed report of 1 token (the baseline: signature, parsing, one query);
 *   2. 1,000 checksum-valid tokens that are not keys (one query, no argon2);
 *   3. 1,000 tokens of which 10 are real keys (the realistic worst: noise plus a few hits);
 *   4. 1,000 real, active keys (1,000 argon2id verifications, one revoking transaction);
 *   5. from the answer to the moment instance B refuses the revoked (cached) key.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { generateApiKey } from '../src/modules/api-keys/api-key.format.ts';
import { createTestKey } from '../test/helpers/api-keys.ts';
import { LogCapture } from '../test/helpers/app.ts';
import { createTestDatabase } from '../test/helpers/database.ts';
import {
  githubSignature,
  githubSigningKey,
  startGithubKeysFake,
} from '../test/helpers/fakes/github-keys-fake.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const signer = githubSigningKey('bench-key');
const github = await startGithubKeysFake([signer]);
const db = await createTestDatabase();
const env = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  DATA_DIR: 'memory',
  ...(db.url ? { DATABASE_URL: db.url } : {}),
  GITHUB_SECRET_SCANNING_KEYS_URL: github.keysUrl,
  API_KEY_CACHE_TTL_MS: '3600000',
  WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
  ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const build = async (database: typeof db.database) =>
  buildApp(loadConfig(env), {
    database,
    logStream: new LogCapture(),
    skipMigrations: true,
    skipReconciler: true,
  });
const a = await build(db.database);
const secondDb = db.url ? await openDatabase({ url: db.url, poolSize: 2 }) : db.database;
const b = await build(secondDb);

async function post(tokens: string[]): Promise<{ ms: number; labels: string[] }> {
  const body = JSON.stringify(
    tokens.map((token, i) => ({
      token,
      type: 'monoid_api_key',
      url: `https://github.com/someone/repo/blob/main/file${i}.js`,
      source: 'content',
    })),
  );
  const started = performance.now();
  const res = await a.inject({
    method: 'POST',
    url: '/webhooks/github/secret-scanning',
    headers: {
      'content-type': 'application/json',
      'github-public-key-identifier': signer.identifier,
      'github-public-key-signature': githubSignature(signer, body),
    },
    payload: body,
  });
  const ms = performance.now() - started;
  if (res.statusCode !== 200) throw new Error(`report answered ${res.statusCode}: ${res.body}`);
  return { ms, labels: (res.json() as Array<{ label: string }>).map((f) => f.label) };
}

async function realKeys(app: FastifyInstance, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, n - i) }, () => createTestKey(app)),
    );
    out.push(...batch.map((k) => k.key));
  }
  return out;
}

const noise = (n: number) => Array.from({ length: n }, () => generateApiKey().key);
const results: Record<string, number[]> = {
  one: [],
  noise1000: [],
  mixed1000: [],
  real1000: [],
  crossInstance: [],
};
const load: number[] = [];

await post(noise(1)); // warm up: key fetch, JIT
for (let round = 0; round < ROUNDS; round++) {
  load.push(loadavg()[0] ?? 0);
  results.one?.push((await post(noise(1))).ms);
  results.noise1000?.push((await post(noise(1000))).ms);
  const ten = await realKeys(a, 10);
  const mixed = await post([...noise(990), ...ten]);
  if (mixed.labels.filter((l) => l === 'true_positive').length !== 10) throw new Error('mixed');
  results.mixed1000?.push(mixed.ms);
  const thousand = await realKeys(a, 1000);
  const real = await post(thousand);
  if (real.labels.some((l) => l !== 'true_positive')) throw new Error('real');
  results.real1000?.push(real.ms);

  // Cross-instance: B holds the key warm; time from the answer to B's first refusal.
  for (let i = 0; i < 5; i++) {
    const [key] = await realKeys(a, 1);
    if (!key) throw new Error('no key');
    const me = () => b.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });
    if ((await me()).statusCode !== 200) throw new Error('warm');
    await post([key]);
    const answered = performance.now();
    while ((await me()).statusCode === 200) await new Promise((r) => setTimeout(r, 2));
    results.crossInstance?.push(performance.now() - answered);
  }
}

const base = median(results.one ?? []);
console.log(`load average (1 min) during rounds: ${load.map((l) => l.toFixed(2)).join(', ')}`);
console.log(
  `backend: ${db.url ? 'Postgres' : 'PGlite'}, rounds: ${ROUNDS}, argon2 concurrency: ${a.apiKeys.hasher.concurrency}`,
);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(
    `${name.padEnd(14)} median ${m.toFixed(1).padStart(8)} ms  max ${Math.max(...xs)
      .toFixed(1)
      .padStart(8)} ms  ×${(m / base).toFixed(1)} of 1-token  (${xs.length} samples)`,
  );
}
await b.close();
if (db.url) await secondDb.close();
await a.close();
await db.destroy();
await github.close();
