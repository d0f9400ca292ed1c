/**
 * Public API benchmark (issue 5): 100,000 tasks in one workspace;
 * `GET /api/v1/tasks?bucket=todo&limit=100` and `GET /api/v1/tasks/{id}` through the real
 * server (src/server.ts, key auth included) against a bare Fastify + pg server running the
 * same SQL (bench/baseline-server.ts), in the same run, in alternating slices. Reports req/s,
 * p99 and the ratio, plus the API server's resident memory under load.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/public-api.ts
 *
 * Env: BENCH_DURATION (s per slice, default 5), BENCH_CONNECTIONS (default 10),
 * BENCH_ROUNDS (default 6; api and baseline alternate slices, medians are reported).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { createApiKeyForClerkUser } from '../src/modules/api-keys/api-keys.service.ts';
import { seedTasks } from '../test/helpers/seed-tasks.ts';

const base = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const dbName = `monoid_bench_${randomBytes(4).toString('hex')}`;
const dbUrl = (() => {
  const u = new URL(base);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

async function admin(query: string) {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not start`);
}

function start(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Measure {
  rps: number;
  p99: number;
  p50: number;
  non2xx: number;
  maxRssMb: number;
}

async function measure(
  url: string,
  headers: Record<string, string>,
  pid: number | undefined,
): Promise<Measure> {
  let maxRss = 0;
  const sampler = setInterval(() => {
    if (pid) maxRss = Math.max(maxRss, rssKb(pid));
  }, 200);
  const result = await autocannon({ url, connections, duration, headers });
  clearInterval(sampler);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    non2xx: result.non2xx + result.errors,
    maxRssMb: Math.round(maxRss / 1024),
  };
}

async function main() {
  await admin(`CREATE DATABASE "${dbName}"`);
  const database = await openDatabase({ url: dbUrl, poolSize: 2 });
  try {
    await runMigrations(database);
    const created = (await database.db.execute(
      sql`insert into users (clerk_id) values ('user_bench') returning id`,
    )) as unknown as { rows: Array<{ id: string }> };
    const userId = created.rows[0]?.id ?? '';
    process.stderr.write('seeding 100,000 tasks...\n');
    await seedTasks(database, userId);
    const task = (await database.db.execute(
      sql`select id from tasks where workspace_id = ${userId} and bucket = 'todo' limit 1`,
    )) as unknown as { rows: Array<{ id: string }> };
    const taskId = task.rows[0]?.id ?? '';

    const env = {
      DATABASE_URL: dbUrl,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      // Production on Postgres requires the key that encrypts provider secrets at rest.
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      API_RATE_LIMIT_PER_MINUTE: '10000000',
      ADDRESS_RATE_LIMIT_PER_MINUTE: '10000000',
      DATABASE_POOL_SIZE: '10',
    };
    const app = await buildApp(loadConfig({ ...env, DATA_DIR: 'memory' }), {
      database,
      skipMigrations: true,
    });
    const { key } = await createApiKeyForClerkUser(app.apiKeys.deps, {
      clerkUserId: 'user_bench',
      name: 'bench',
      scopes: ['read'],
      expiresAt: null,
    });
    await app.close();

    const headers = { authorization: `Bearer ${key}` };
    const routes = {
      list: '/api/v1/tasks?bucket=todo&limit=100',
      get: `/api/v1/tasks/${taskId}`,
    } as const;
    // Both servers run side by side (idle when not measured); measurements alternate
    // api / baseline in short slices, so that each ratio compares two neighbouring slices of
    // time on a machine whose background load varies. The median ratio is reported.
    const apiChild = start('src/server.ts', { ...env, PORT: '3801', HOST: '127.0.0.1' });
    const baseChild = start('bench/baseline-server.ts', {
      ...env,
      PORT: '3802',
      BENCH_USER_ID: userId,
    });
    try {
      await waitFor(`http://127.0.0.1:3801/api/v1/tasks/${taskId}`);
      await waitFor(`http://127.0.0.1:3802/api/v1/tasks/${taskId}`);
      const servers = {
        api: { port: 3801, pid: apiChild.pid },
        baseline: { port: 3802, pid: baseChild.pid },
      } as const;
      const idle = {
        api: apiChild.pid ? Math.round(rssKb(apiChild.pid) / 1024) : 0,
        baseline: baseChild.pid ? Math.round(rssKb(baseChild.pid) / 1024) : 0,
      };
      const samples: Record<'list' | 'get', { api: Measure[]; baseline: Measure[] }> = {
        list: { api: [], baseline: [] },
        get: { api: [], baseline: [] },
      };
      // Warm-up: JIT, key cache, connection pools.
      for (const kind of ['api', 'baseline'] as const) {
        for (const path of Object.values(routes)) {
          const url = `http://127.0.0.1:${servers[kind].port}${path}`;
          await autocannon({ url, connections, duration: 2, headers });
        }
      }
      for (let round = 0; round < rounds; round++) {
        for (const name of ['list', 'get'] as const) {
          // Alternate which server goes first, so neither always gets the quieter slot.
          const order =
            round % 2 === 0 ? (['api', 'baseline'] as const) : (['baseline', 'api'] as const);
          for (const kind of order) {
            const url = `http://127.0.0.1:${servers[kind].port}${routes[name]}`;
            const m = await measure(url, headers, servers[kind].pid);
            samples[name][kind].push(m);
            process.stderr.write(
              `round ${round + 1} ${name} ${kind}: ${m.rps.toFixed(0)} req/s, p99 ${m.p99} ms, non-2xx ${m.non2xx}, rss ${m.maxRssMb} MB\n`,
            );
          }
        }
      }
      const median = (xs: number[]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const mid = Math.floor(sorted.length / 2);
        return sorted.length % 2
          ? (sorted[mid] ?? 0)
          : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
      };
      const line = (name: 'list' | 'get') => {
        const a = samples[name].api;
        const b = samples[name].baseline;
        const ratios = a.map((m, i) => m.rps / (b[i]?.rps ?? Number.NaN));
        const non2xx = [...a, ...b].reduce((n, m) => n + m.non2xx, 0);
        const label =
          name === 'list' ? 'GET /api/v1/tasks?bucket=todo&limit=100' : 'GET /api/v1/tasks/{id}';
        const perRound = ratios.map((r) => (r * 100).toFixed(0)).join(', ');
        return `| ${label} | ${median(a.map((m) => m.rps)).toFixed(0)} | ${median(a.map((m) => m.p99))} | ${median(b.map((m) => m.rps)).toFixed(0)} | ${median(b.map((m) => m.p99))} | ${(median(ratios) * 100).toFixed(0)} % (${perRound}) | ${non2xx} |`;
      };
      const peak = (kind: 'api' | 'baseline') =>
        Math.max(...[...samples.list[kind], ...samples.get[kind]].map((m) => m.maxRssMb));
      const out = [
        `${connections} connections, ${duration} s per slice, ${rounds} alternating rounds (medians), 100,000 tasks in one workspace.`,
        '',
        '| Route | API req/s | API p99 ms | Baseline req/s | Baseline p99 ms | API / baseline: median (per round, %) | non-2xx |',
        '|---|---|---|---|---|---|---|',
        line('list'),
        line('get'),
        '',
        `API server RSS: ${idle.api} MB idle, ${peak('api')} MB peak under load (baseline: ${idle.baseline} MB idle, ${peak('baseline')} MB peak).`,
      ].join('\n');
      process.stdout.write(`${out}\n`);
    } finally {
      await stop(apiChild);
      await stop(baseChild);
    }
  } finally {
    await database.close();
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }
}

await main();
