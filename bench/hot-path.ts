/**
 * Hot-path benchmark (issue 15): three ratios, measured in one run on this machine.
 *
 *   1. `GET /healthz`: the whole stack against bare Fastify answering the same route;
 *   2. `GET /api/v1/me` with a warm key against the same route with auth switched off
 *      (`/noauth/me`, same process: bench/hot-path.server.ts);
 *   3. `GET /api/v1/tasks?limit=100` on 100,000 tasks against bare Fastify + pg running the
 *      same SQL (bench/baseline-server.ts).
 *
 * The app runs with production defaults (NODE_ENV=production, LOG_LEVEL unset = info, metrics
 * on, security headers, rate-limit accounting with limits raised so they never trip), its log
 * lines going to /dev/null. Each pair is measured in alternating slices, the first server
 * alternating each round; medians are reported with the per-round ratios and the load average.
 *
 * The load generator (autocannon) runs in this process, the servers in child processes. On
 * this 2-core machine they compete: by default (BENCH_PIN=1) the servers are pinned to core 0
 * and this process to core 1 (`taskset`; Postgres floats), so a server never shares its core
 * with its client. Each slice reports the client's CPU (% of one core): near 100 %, the client
 * sets the rate, and the ratio is flagged.
 *
 *   flock /tmp/monoid-bench.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/hot-path.ts
 *
 * Env: BENCH_DURATION (s per slice, default 5), BENCH_CONNECTIONS (default 10),
 * BENCH_ROUNDS (default 7), BENCH_ONLY (comma list of healthz,me,tasks), BENCH_PIN (1 or 0),
 * BENCH_CPU_PROF=<dir> (the app runs under `node --cpu-prof`, profiles written at exit).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { sql } from 'drizzle-orm';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { createApiKeyForClerkUser } from '../src/modules/api-keys/api-keys.service.ts';
import { seedTasks } from '../test/helpers/seed-tasks.ts';
import {
  adminQuery,
  benchDatabase,
  type Measure,
  measure,
  median,
  startServer,
  stopServer,
  waitFor,
} from './bench-kit.ts';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const pin = process.env.BENCH_PIN !== '0';
const only = new Set((process.env.BENCH_ONLY ?? 'healthz,me,tasks').split(','));
const profileDir = process.env.BENCH_CPU_PROF;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Pair {
  name: 'healthz' | 'me' | 'tasks';
  label: string;
  target: number;
  subject: { port: number; path: string; label: string };
  baseline: { port: number; path: string; label: string };
}

async function main() {
  const db = benchDatabase(base);
  await adminQuery(base, `CREATE DATABASE "${db.name}"`);
  const database = await openDatabase({ url: db.url, poolSize: 2 });
  try {
    await runMigrations(database);
    const created = (await database.db.execute(
      sql`insert into users (clerk_id) values ('user_bench') returning id`,
    )) as unknown as { rows: Array<{ id: string }> };
    const userId = created.rows[0]?.id ?? '';
    if (only.has('tasks')) {
      process.stderr.write('seeding 100,000 tasks...\n');
      await seedTasks(database, userId);
    }
    const env = {
      DATABASE_URL: db.url,
      NODE_ENV: 'production',
      // Production on Postgres requires the key that encrypts provider secrets at rest.
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      // Counted as in production, but never tripped by the load generator.
      API_RATE_LIMIT_PER_MINUTE: '10000000',
      ADDRESS_RATE_LIMIT_PER_MINUTE: '10000000',
      DATABASE_POOL_SIZE: '10',
      // Connection recycling is not per-request work, and the baseline has none: autocannon
      // sends its next request on a socket Node has told to close after 1,000 (the production
      // default), and Node answers those with 503s, ~40 % of all answers on /healthz.
      HTTP_MAX_REQUESTS_PER_SOCKET: '0',
    };
    const setup = await buildApp(loadConfig({ ...env, DATA_DIR: 'memory', LOG_LEVEL: 'warn' }), {
      database,
      skipMigrations: true,
    });
    const { key, apiKey } = await createApiKeyForClerkUser(setup.apiKeys.deps, {
      clerkUserId: 'user_bench',
      name: 'bench',
      scopes: ['read'],
      expiresAt: null,
    });
    await setup.close();

    const app = startServer(
      'bench/hot-path.server.ts',
      { ...env, PORT: '3811', HOST: '127.0.0.1', BENCH_USER_ID: userId, BENCH_KEY_ID: apiKey.id },
      profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    );
    const bare = startServer('bench/baseline-server.ts', {
      ...env,
      PORT: '3812',
      BENCH_USER_ID: userId,
    });
    // Pins whole processes (every thread): servers on core 0, this client on core 1.
    const pinning = pin
      ? [
          [app.pid, 0],
          [bare.pid, 0],
          [process.pid, 1],
        ].map(([pid, core]) => {
          execFileSync('taskset', ['-a', '-cp', String(core), String(pid)], { stdio: 'ignore' });
          return `${pid === process.pid ? 'client' : pid === app.pid ? 'app' : 'baseline'} on core ${core}`;
        })
      : ['none'];
    const headers = { authorization: `Bearer ${key}` };
    try {
      await waitFor('http://127.0.0.1:3811/healthz');
      await waitFor('http://127.0.0.1:3812/healthz');
      const pairs: Pair[] = [
        {
          name: 'healthz',
          label: '`GET /healthz`: whole stack / bare Fastify',
          target: 60,
          subject: { port: 3811, path: '/healthz', label: 'whole stack' },
          baseline: { port: 3812, path: '/healthz', label: 'bare Fastify' },
        },
        {
          name: 'me',
          label: '`GET /api/v1/me`, warm key / auth switched off',
          target: 90,
          subject: { port: 3811, path: '/api/v1/me', label: 'key auth' },
          baseline: { port: 3811, path: '/noauth/me', label: 'no auth' },
        },
        {
          name: 'tasks',
          label: '`GET /api/v1/tasks?limit=100` (100,000 tasks) / bare Fastify + pg, same SQL',
          target: 90,
          subject: { port: 3811, path: '/api/v1/tasks?limit=100', label: 'API' },
          baseline: { port: 3812, path: '/api/v1/tasks?limit=100', label: 'bare Fastify + pg' },
        },
      ].filter((p) => only.has(p.name)) as Pair[];
      const pids = { 3811: app.pid, 3812: bare.pid } as Record<number, number | undefined>;
      const loadBefore = load();
      // Warm-up: JIT, key cache, connection pools.
      for (const pair of pairs)
        for (const side of [pair.subject, pair.baseline])
          await measure(`http://127.0.0.1:${side.port}${side.path}`, {
            connections,
            duration: 2,
            headers,
          });
      const samples = new Map<string, { subject: Measure[]; baseline: Measure[] }>();
      for (let round = 0; round < rounds; round++) {
        for (const pair of pairs) {
          const s = samples.get(pair.name) ?? { subject: [], baseline: [] };
          samples.set(pair.name, s);
          const order =
            round % 2 === 0
              ? (['subject', 'baseline'] as const)
              : (['baseline', 'subject'] as const);
          for (const side of order) {
            const target = pair[side];
            const m = await measure(
              `http://127.0.0.1:${target.port}${target.path}`,
              { connections, duration, headers },
              pids[target.port],
            );
            s[side].push(m);
            const refused = Object.entries(m.refused).map(([k, n]) => `${k}: ${n}`);
            process.stderr.write(
              `round ${round + 1} ${pair.name} ${target.label}: ${m.rps.toFixed(0)} req/s, ${m.cpuPerRequest.toFixed(0)} µs CPU/req, p99 ${m.p99} ms, client CPU ${m.clientCpuPercent.toFixed(0)} %, non-2xx ${m.non2xx}${refused.length ? ` (${refused.join(', ')})` : ''} (load ${load()})\n`,
            );
          }
        }
      }
      const loadAfter = load();
      const lines = pairs.map((pair) => {
        const s = samples.get(pair.name) ?? { subject: [], baseline: [] };
        const ratios = s.subject.map((m, i) => (100 * m.rps) / (s.baseline[i]?.rps ?? Number.NaN));
        const non2xx = [...s.subject, ...s.baseline].reduce((n, m) => n + m.non2xx, 0);
        const ratio = median(ratios);
        const cpuSubject = median(s.subject.map((m) => m.cpuPerRequest));
        const cpuBaseline = median(s.baseline.map((m) => m.cpuPerRequest));
        const clientMax = Math.max(...[...s.subject, ...s.baseline].map((m) => m.clientCpuPercent));
        return `| ${pair.label} | ${median(s.subject.map((m) => m.rps)).toFixed(0)} | ${median(s.subject.map((m) => m.p99))} | ${median(s.baseline.map((m) => m.rps)).toFixed(0)} | ${median(s.baseline.map((m) => m.p99))} | **${ratio.toFixed(0)} %** (${ratios.map((r) => r.toFixed(0)).join(', ')}) | ${cpuSubject.toFixed(0)} / ${cpuBaseline.toFixed(0)} µs = ${((100 * cpuBaseline) / cpuSubject).toFixed(0)} % | ≥ ${pair.target} %: ${ratio >= pair.target ? 'met' : 'not met'} | ${clientMax.toFixed(0)} %${clientMax >= 90 ? ' (client-bound)' : ''} | ${non2xx} |`;
      });
      process.stdout.write(
        [
          `${connections} connections, ${duration} s slices, ${rounds} alternating rounds (medians); pinning: ${pinning.join(', ')}; load average (1, 5, 15 min) ${loadBefore} before, ${loadAfter} after.`,
          '',
          '| Pair | Subject req/s | p99 ms | Baseline req/s | p99 ms | Ratio: median (per round) | Server CPU per request, subject / baseline (= capacity ratio) | Target (on req/s) | Client CPU, max slice (% of a core) | non-2xx |',
          '|---|---|---|---|---|---|---|---|---|---|',
          ...lines,
          '',
        ].join('\n'),
      );
    } finally {
      await stopServer(app);
      await stopServer(bare);
    }
  } finally {
    await database.close();
    await adminQuery(base, `DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`);
  }
}

await main();
