/**
 * Public API benchmark (issue 5): 100,000 tasks in one workspace;
 * `GET /api/v1/tasks?bucket=todo&limit=100` and `GET /api/v1/tasks/{id}` through the real
 * server (src/server.ts, key auth included) against a bare Fastify + pg server running the
 * same SQL (bench/baseline-server.ts), in the same run, one server at a time. Reports req/s,
 * p99 and the ratio, plus the API server's resident memory under load.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/public-api.ts
 *
 * Env: BENCH_DURATION (s per measurement, default 10), BENCH_CONNECTIONS (default 10),
 * BENCH_ROUNDS (default 2; api and baseline alternate each round, best round counts).
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
const duration = Number(process.env.BENCH_DURATION ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
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
    const best: Record<string, Measure> = {};
    const keep = (name: string, m: Measure) => {
      const prev = best[name];
      if (!prev || m.rps > prev.rps)
        best[name] = { ...m, maxRssMb: Math.max(m.maxRssMb, prev?.maxRssMb ?? 0) };
      else prev.maxRssMb = Math.max(prev.maxRssMb, m.maxRssMb);
    };

    for (let round = 0; round < rounds; round++) {
      for (const kind of ['api', 'baseline'] as const) {
        const port = kind === 'api' ? 3801 : 3802;
        const child =
          kind === 'api'
            ? start('src/server.ts', { ...env, PORT: String(port), HOST: '127.0.0.1' })
            : start('bench/baseline-server.ts', {
                ...env,
                PORT: String(port),
                BENCH_USER_ID: userId,
              });
        await waitFor(`http://127.0.0.1:${port}/api/v1/tasks/${taskId}`);
        const idleRss = child.pid ? Math.round(rssKb(child.pid) / 1024) : 0;
        for (const [name, path] of Object.entries(routes)) {
          const url = `http://127.0.0.1:${port}${path}`;
          // Warm-up: JIT, key cache, connection pool.
          await autocannon({ url, connections, duration: 2, headers });
          const m = await measure(url, headers, child.pid);
          process.stderr.write(
            `round ${round + 1} ${kind} ${name}: ${m.rps.toFixed(0)} req/s, p99 ${m.p99} ms, non-2xx ${m.non2xx}, rss ${m.maxRssMb} MB (idle ${idleRss} MB)\n`,
          );
          keep(`${kind}:${name}`, m);
          keep(`${kind}:idle`, { rps: 0, p99: 0, p50: 0, non2xx: 0, maxRssMb: idleRss });
        }
        await stop(child);
      }
    }

    const line = (name: 'list' | 'get') => {
      const a = best[`api:${name}`];
      const b = best[`baseline:${name}`];
      if (!a || !b) return '';
      return `| ${routes[name]} | ${a.rps.toFixed(0)} | ${a.p99} | ${b.rps.toFixed(0)} | ${b.p99} | ${((a.rps / b.rps) * 100).toFixed(0)} % | ${a.non2xx + b.non2xx} |`;
    };
    const out = [
      `${connections} connections, ${duration} s per measurement, best of ${rounds} rounds, 100,000 tasks in one workspace.`,
      '',
      '| Route | API req/s | API p99 ms | Baseline req/s | Baseline p99 ms | API / baseline | non-2xx |',
      '|---|---|---|---|---|---|---|',
      line('list'),
      line('get'),
      '',
      `API server RSS: ${best['api:idle']?.maxRssMb} MB idle, ${Math.max(best['api:list']?.maxRssMb ?? 0, best['api:get']?.maxRssMb ?? 0)} MB peak under load (baseline: ${best['baseline:idle']?.maxRssMb} MB idle, ${Math.max(best['baseline:list']?.maxRssMb ?? 0, best['baseline:get']?.maxRssMb ?? 0)} MB peak).`,
    ].join('\n');
    process.stdout.write(`${out}\n`);
  } finally {
    await database.close();
    await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  }
}

await main();
