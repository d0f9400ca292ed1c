/**
 * API-key benchmark (not a test). Run: `npx tsx bench/api-keys.ts` (embedded database) or
 * `DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/api-keys.ts` (a
 * fresh database is created on that server and dropped afterwards).
 *
 * The server runs in a child process (so the load generator does not share its event loop)
 * with two copies of the same read routes: under /api/v1 (key auth: parse, cache, per-key
 * rate limit, scope) and under /bench (auth switched off: a hook sets a fixed principal).
 * Measured in one run, interleaved to spread machine noise over both:
 *   1. throughput and p99 latency, auth vs no auth, on a trivial route and on GET /me;
 *   2. warm verification cost in-process (µs per authenticate() call);
 *   3. cold verification cost (first request of a fresh key vs its second request) and the
 *      argon2id verify alone;
 *   4. a legitimate client's throughput and success rate (share of 200 answers) alone, then
 *      alongside a flood of wrong keys (security finding 3: it must keep >= 90 % of its
 *      no-flood success rate):
 *      (a) invented keys from one address (per-address cap on cold verifications, dummy hash),
 *      (b) wrong secrets for a known key id from rotating forged X-Forwarded-For addresses
 *          behind a configured proxy (TRUST_PROXY=1: the proxy's own entry is believed, the
 *          forged ones are not; per-(address, id) and per-id throttles).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { checksumOf, generateApiKey } from '../src/modules/api-keys/api-key.format.ts';
import { ApiKeyHasher } from '../src/modules/api-keys/api-key.hasher.ts';
import { apiMeRoutes } from '../src/modules/api-keys/api-me.routes.ts';
import { createTestKey } from '../test/helpers/api-keys.ts';
import { LogCapture } from '../test/helpers/app.ts';
import { createTestDatabase } from '../test/helpers/database.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 2);
/** Requests per second of the wrong-key flood (fixed rate, 20 connections). */
const FLOOD_RATE = Number(process.env.BENCH_FLOOD_RATE ?? 2000);

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

interface Ready {
  port: number;
  key: string;
  wrongSecretKey: string;
  coldKeys: string[];
  warmVerifyMicros: number;
  /** Per-request cost through Fastify's inject (no sockets): median over alternating rounds. */
  injectMicros: { noAuth: number; auth: number; ratios: number[] };
}

async function benchRoutes(scope: FastifyInstance): Promise<void> {
  scope.get('/ping', async (request) => ({ data: { userId: request.principal?.userId ?? null } }));
  await scope.register(apiMeRoutes);
}

async function serve(env: Record<string, string>): Promise<void> {
  const db = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATA_DIR: 'memory',
    API_RATE_LIMIT_PER_MINUTE: '10000000',
    ...(db.url ? { DATABASE_URL: db.url } : {}),
    ...env,
  });
  const app = await buildApp(config, {
    database: db.database,
    skipMigrations: true,
    logStream: new LogCapture(),
    extraApiRoutes: async (v1) => {
      await v1.register(benchRoutes, { prefix: '/__bench' });
    },
    extraRoutes: async (root) => {
      await root.register(
        async (scope) => {
          scope.decorateRequest('apiKeyDetails', null);
          scope.addHook('onRequest', async (request) => {
            request.principal = {
              keyId: fixed.keyId,
              userId: fixed.userId,
              scopes: fixed.scopes,
              workspaceId: null,
            };
            request.apiKeyDetails = fixed;
          });
          await scope.register(benchRoutes);
        },
        { prefix: '/bench' },
      );
    },
  });
  const k = await createTestKey(app, { scopes: ['read'], name: 'bench' });
  const fixed = {
    keyId: k.keyId,
    userId: k.userId,
    name: 'bench',
    scopes: ['read' as const],
    expiresAt: null,
    revokedAt: null,
    workspaceId: null,
  };
  const coldKeys: string[] = [];
  for (let i = 0; i < 15; i++) coldKeys.push((await createTestKey(app, { scopes: ['read'] })).key);
  const body = `${k.key.slice(0, 15)}${generateApiKey().secret}`;
  const wrongSecretKey = `${body}${checksumOf(body)}`;

  // Warm verification, in-process: the whole authenticate() on a cache hit.
  const verifier = app.apiKeys.verifier;
  const fakeRequest = {
    ip: '127.0.0.1',
    headers: {},
    routeOptions: { config: {} },
  } as unknown as FastifyRequest;
  await verifier.authenticate(fakeRequest, k.key);
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await verifier.authenticate(fakeRequest, k.key);
  const warmVerifyMicros = ((performance.now() - t0) * 1000) / n;

  // The same comparison without sockets or a load generator: Fastify's inject, in-process.
  // CPU time (user + system) of this process per request: unlike wall time, it does not
  // depend on what else the shared machine is running.
  const perRequest = async (url: string, headers: Record<string, string>) => {
    const count = 5_000;
    const start = process.cpuUsage();
    for (let i = 0; i < count; i++) await app.inject({ url, headers });
    const used = process.cpuUsage(start);
    return (used.user + used.system) / count;
  };
  const noAuthRuns: number[] = [];
  const authRuns: number[] = [];
  for (let round = 0; round < 8; round++) {
    noAuthRuns.push(await perRequest('/bench/ping', {}));
    authRuns.push(await perRequest('/api/v1/__bench/ping', { authorization: `Bearer ${k.key}` }));
  }
  const injectMicros = {
    noAuth: median(noAuthRuns),
    auth: median(authRuns),
    ratios: authRuns.map((a, i) => (100 * (noAuthRuns[i] ?? a)) / a),
  };

  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.send?.({
    port,
    key: k.key,
    wrongSecretKey,
    coldKeys,
    warmVerifyMicros,
    injectMicros,
  } satisfies Ready);
  process.on('message', async (msg) => {
    if (msg === 'cpu') {
      const usage = process.cpuUsage();
      process.send?.({ cpu: usage.user + usage.system });
    }
    if (msg === 'stop') {
      await app.close();
      await db.destroy();
      process.exit(0);
    }
  });
}

interface Server {
  ready: Ready;
  /** CPU time (µs, user + system) the server process has used so far. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

function startServer(env: Record<string, string>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ['--serve', JSON.stringify(env)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    let cpuWaiter: ((micros: number) => void) | undefined;
    child.on('message', (msg) => {
      const m = msg as { cpu?: number; port?: number };
      if (typeof m.cpu === 'number') {
        cpuWaiter?.(m.cpu);
        cpuWaiter = undefined;
      } else if (typeof m.port === 'number') {
        resolve({
          ready: msg as Ready,
          cpu: () =>
            new Promise((done) => {
              cpuWaiter = done;
              child.send('cpu');
            }),
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.send('stop');
            }),
        });
      }
    });
  });
}

interface Load {
  rps: number;
  /** Server CPU µs per answered request (when measured). */
  cpuPerRequest: number;
  p99: number;
  p50: number;
  codes: Record<string, number>;
}

async function load(options: autocannon.Options, server?: Server): Promise<Load> {
  const before = server ? await server.cpu() : 0;
  const result = await autocannon({ duration: DURATION, connections: CONNECTIONS, ...options });
  const after = server ? await server.cpu() : 0;
  const codes: Record<string, number> = {};
  for (const [k, v] of Object.entries(result.statusCodeStats ?? {})) codes[k] = v.count ?? 0;
  const answered = Object.values(codes).reduce((a, b) => a + b, 0) || 1;
  return {
    rps: result.requests.average,
    cpuPerRequest: (after - before) / answered,
    p99: result.latency.p99,
    p50: result.latency.p50,
    codes,
  };
}

/** Share of 200 answers, in %. */
const successRate = (l: Load) => {
  const answered = Object.values(l.codes).reduce((a, b) => a + b, 0);
  return answered ? (100 * (l.codes['200'] ?? 0)) / answered : 0;
};

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const lines: string[] = [];
  const out = (line = '') => {
    lines.push(line);
    process.stdout.write(`${line}\n`);
  };
  out(
    `Load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${availableParallelism()} CPUs).`,
  );
  out(
    `Run: ${new Date().toISOString()}, ${DURATION} s per measurement, ${CONNECTIONS} connections, database ${process.env.DATABASE_URL ? 'Postgres' : 'embedded (PGlite)'}.`,
  );

  const server = await startServer({});
  const { ready, stop } = server;
  const base = `http://127.0.0.1:${ready.port}`;
  const auth = { authorization: `Bearer ${ready.key}` };
  try {
    // 1. Auth vs no auth, in alternating rounds.
    out('\n### Auth vs auth switched off (same routes, same server process)\n');
    out(
      '| route | server CPU per request, no auth / auth | capacity with auth (CPU ratio) | req/s no auth / auth (wall clock) | p99 no auth / auth (ms) |',
    );
    out('|---|---|---|---|---|');
    for (const route of ['/ping', '/me']) {
      const off: Load[] = [];
      const on: Load[] = [];
      // Short alternating rounds: the machine is shared, so noise hits both sides alike.
      for (let round = 0; round < ROUNDS; round++) {
        off.push(await load({ url: `${base}/bench${route}`, duration: ROUND_SECONDS }, server));
        on.push(
          await load(
            {
              url: `${base}/api/v1${route === '/ping' ? '/__bench/ping' : '/me'}`,
              headers: auth,
              duration: ROUND_SECONDS,
            },
            server,
          ),
        );
      }
      for (const l of [...off, ...on]) {
        if (Object.keys(l.codes).some((c) => c !== '200'))
          throw new Error(`non-200 answers: ${JSON.stringify(l.codes)}`);
      }
      const med = (ls: Load[], f: (l: Load) => number) => median(ls.map(f));
      const offCpu = med(off, (l) => l.cpuPerRequest);
      const onCpu = med(on, (l) => l.cpuPerRequest);
      out(
        `| GET ${route} (HTTP, ${ROUNDS} × ${ROUND_SECONDS} s each) | ${fmt(offCpu, 1)} µs / ${fmt(onCpu, 1)} µs | ${fmt((100 * offCpu) / onCpu, 1)} % | ${fmt(med(off, (l) => l.rps))} / ${fmt(med(on, (l) => l.rps))} | ${fmt(
          med(off, (l) => l.p99),
          1,
        )} / ${fmt(
          med(on, (l) => l.p99),
          1,
        )} |`,
      );
    }
    const im = ready.injectMicros;
    out(
      `| GET /ping (in-process inject, 8 × 5,000 each) | ${fmt(im.noAuth, 1)} µs / ${fmt(im.auth, 1)} µs | ${fmt((100 * im.noAuth) / im.auth, 1)} % | - | - |`,
    );
    out(
      `\nWarm verification in-process: ${fmt(ready.warmVerifyMicros, 2)} µs per authenticate() (parse, checksum, SHA-256, cache hit, last-used bookkeeping).`,
    );

    // 3. Cold verification.
    const timed = async (key: string) => {
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/__bench/ping`, {
        headers: { authorization: `Bearer ${key}` },
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      return performance.now() - t0;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (const key of ready.coldKeys) {
      cold.push(await timed(key));
      warm.push(await timed(key));
    }
    const hasher = new ApiKeyHasher(
      { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
      { concurrency: 1, queueMax: 1 },
    );
    const phc = await hasher.hash('x'.repeat(24));
    const argon: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      await hasher.verify(phc, 'x'.repeat(24));
      argon.push(performance.now() - t0);
    }
    out('\n### Cold verification (sequential, median of 15 fresh keys)\n');
    out(`- first request of a key (lookup + argon2id verify): ${fmt(median(cold), 2)} ms`);
    out(`- second request (cache hit): ${fmt(median(warm), 2)} ms`);
    out(
      `- cold cost: ${fmt(median(cold) - median(warm), 2)} ms; argon2id verify alone (m=19456, t=2, p=1): ${fmt(median(argon), 2)} ms`,
    );

    // 4a. Flood from one address.
    out('\n### Flood of wrong keys alongside a legitimate client\n');
    out(
      '| scenario | legitimate req/s | legitimate success rate (vs alone) | legitimate p99 (ms) | flood answers |',
    );
    out('|---|---|---|---|---|');
    const legitAlone = await load(
      { url: `${base}/api/v1/__bench/ping`, headers: auth, connections: 5 },
      server,
    );
    out(
      `| legitimate client alone | ${fmt(legitAlone.rps)} | ${fmt(successRate(legitAlone), 1)} % | ${fmt(legitAlone.p99, 2)} | - |`,
    );
    // Server CPU per rejected request, flood alone.
    const cpuA0 = await server.cpu();
    const aloneA = await (await flood({ url: `${base}/api/v1/__bench/ping`, mode: 'invented' }))
      .done;
    const cpuA1 = await server.cpu();
    const floodAloneCpu = (cpuA1 - cpuA0) / Object.values(aloneA.codes).reduce((a, b) => a + b, 1);
    const floodingA = await flood({ url: `${base}/api/v1/__bench/ping`, mode: 'invented' });
    const legitA = await load({
      url: `${base}/api/v1/__bench/ping`,
      headers: auth,
      connections: 5,
      duration: DURATION - 1,
    });
    const floodA = await floodingA.done;
    out(
      `| flood alone: server CPU per rejected request | - | - | - | ${fmt(floodAloneCpu, 1)} µs (legitimate request: ${fmt(legitAlone.cpuPerRequest, 1)} µs) |`,
    );
    out(
      `| + flood of invented keys, one address (${FLOOD_RATE} req/s) | ${fmt(legitA.rps)} (${fmt((100 * legitA.rps) / legitAlone.rps, 1)} %) | ${fmt(successRate(legitA), 1)} % (${fmt((100 * successRate(legitA)) / successRate(legitAlone), 1)} %) | ${fmt(legitA.p99, 2)} | ${JSON.stringify(floodA.codes)} |`,
    );
    await stop();

    // 4b. Flood from many addresses, wrong secret for a known id: every attempt reaches argon2.
    // Behind one proxy: the load generators play it, appending the "seen" address last.
    const second = await startServer({ TRUST_PROXY: '1' });
    const base2 = `http://127.0.0.1:${second.ready.port}`;
    const auth2 = {
      authorization: `Bearer ${second.ready.key}`,
      'x-forwarded-for': '198.51.100.1',
    };
    try {
      const alone2 = await load({
        url: `${base2}/api/v1/__bench/ping`,
        headers: auth2,
        connections: 5,
      });
      const floodingB = await flood({
        url: `${base2}/api/v1/__bench/ping`,
        mode: 'wrong-secret',
        key: second.ready.wrongSecretKey,
      });
      const legitB = await load({
        url: `${base2}/api/v1/__bench/ping`,
        headers: auth2,
        connections: 5,
        duration: DURATION - 1,
      });
      const floodB = await floodingB.done;
      out(
        `| legitimate client alone (second server) | ${fmt(alone2.rps)} | ${fmt(successRate(alone2), 1)} % | ${fmt(alone2.p99, 2)} | - |`,
      );
      out(
        `| + flood, wrong secrets for a known key id, rotating forged X-Forwarded-For behind TRUST_PROXY=1 (${FLOOD_RATE} req/s) | ${fmt(legitB.rps)} (${fmt((100 * legitB.rps) / alone2.rps, 1)} %) | ${fmt(successRate(legitB), 1)} % (${fmt((100 * successRate(legitB)) / successRate(alone2), 1)} %) | ${fmt(legitB.p99, 2)} | ${JSON.stringify(floodB.codes)} |`,
      );
    } finally {
      await second.stop();
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

interface FloodSpec {
  url: string;
  mode: 'invented' | 'wrong-secret';
  key?: string;
}

/** The flood's own load generator, in its own process (it must not slow the legitimate one). */
async function runFlood(spec: FloodSpec): Promise<void> {
  process.send?.({ started: true });
  const result = await load({
    url: spec.url,
    connections: 20,
    overallRate: FLOOD_RATE,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          headers:
            spec.mode === 'invented'
              ? { ...req.headers, authorization: `Bearer ${generateApiKey().key}` }
              : {
                  ...req.headers,
                  authorization: `Bearer ${spec.key}`,
                  // A forged entry that changes every request, then the proxy's own entry.
                  'x-forwarded-for': `203.0.${randomBytes(1)[0]}.${randomBytes(1)[0]}, 192.0.2.66`,
                },
        }),
      },
    ],
  });
  process.send?.(result);
}

/** Starts the flood; resolves once it is running, with the promise of its result. */
function flood(spec: FloodSpec): Promise<{ done: Promise<Load> }> {
  return new Promise((resolveStarted, reject) => {
    const child = fork(new URL(import.meta.url).pathname, ['--flood', JSON.stringify(spec)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('error', reject);
    let resolveDone: (load: Load) => void = () => undefined;
    const done = new Promise<Load>((r) => {
      resolveDone = r;
    });
    child.on('message', (msg) => {
      if ((msg as { started?: boolean }).started) {
        resolveStarted({ done });
        return;
      }
      resolveDone(msg as Load);
      child.disconnect();
    });
  });
}

if (process.argv[2] === '--serve') {
  await serve(JSON.parse(process.argv[3] ?? '{}') as Record<string, string>);
} else if (process.argv[2] === '--flood') {
  await runFlood(JSON.parse(process.argv[3] ?? '{}') as FloodSpec);
} else {
  await main();
}
