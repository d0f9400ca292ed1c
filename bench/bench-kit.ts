/**
 * Pieces shared by the benchmarks that run servers in child processes and compare them with
 * autocannon: a throwaway database on a Postgres server, child servers, measurement slices.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { openDatabase } from '../src/db/database.ts';
import { runMigrations } from '../src/db/migrate.ts';

export const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** A database name and URL on the server of `base` (created by `createBenchDatabase`). */
export function benchDatabase(base: string): { name: string; url: string } {
  const name = `monoid_bench_${randomBytes(4).toString('hex')}`;
  const u = new URL(base);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

export async function adminQuery(base: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

export async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not start`);
}

/** Runs a TypeScript server script in a child process (`nodeArgs`: e.g. --cpu-prof). */
export function startServer(
  script: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ChildProcess {
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** CPU time (user + system, µs) a process has used so far, from /proc (10 ms ticks). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

export interface Measure {
  /** 2xx responses per second. */
  rps: number;
  /**
   * Server CPU per 2xx response (µs): unlike req/s, barely moved by what else the machine runs.
   */
  cpuPerRequest: number;
  p99: number;
  p50: number;
  non2xx: number;
  /** Status codes other than 2xx, and socket errors, with their counts (e.g. `503: 12`). */
  refused: Record<string, number>;
  maxRssMb: number;
  /**
   * CPU the load generator (autocannon, in this process) used, in % of one core. Near 100 %,
   * the client and not the server sets the rate, and a ratio of rates says nothing.
   */
  clientCpuPercent: number;
}

/** One autocannon slice against `url`, sampling the server's RSS every 200 ms. */
export async function measure(
  url: string,
  options: { connections: number; duration: number; headers?: Record<string, string> },
  pid?: number,
): Promise<Measure> {
  let maxRss = 0;
  const sampler = setInterval(() => {
    if (pid) maxRss = Math.max(maxRss, rssKb(pid));
  }, 200);
  const cpuBefore = pid ? cpuMicros(pid) : 0;
  const clientBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await autocannon({ url, ...options });
  const elapsedMicros = Number(process.hrtime.bigint() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const cpu = pid ? cpuMicros(pid) - cpuBefore : 0;
  clearInterval(sampler);
  const refused: Record<string, number> = {};
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {}))
    if (!status.startsWith('2')) refused[status] = stats.count ?? 0;
  if (result.errors) refused.errors = result.errors;
  // Served means 2xx: a refusal (a 503 from Node past the per-socket request limit, a 429)
  // costs the server little and must not count as throughput.
  const served = result['2xx'];
  return {
    rps: served / (elapsedMicros / 1e6),
    cpuPerRequest: served > 0 ? cpu / served : 0,
    p99: result.latency.p99,
    p50: result.latency.p50,
    non2xx: result.non2xx + result.errors,
    refused,
    maxRssMb: Math.round(maxRss / 1024),
    clientCpuPercent: (100 * (client.user + client.system)) / elapsedMicros,
  };
}

/** A new database on the server of `base`, migrated; `drop()` removes it (bench databases). */
export async function createMigratedBenchDatabase(
  base: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const { name, url } = benchDatabase(base);
  await adminQuery(base, `CREATE DATABASE "${name}"`);
  const migrated = await openDatabase({ url });
  await runMigrations(migrated);
  await migrated.close();
  return { url, drop: () => adminQuery(base, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

/**
 * A MONOid process (bench/automations.server.ts) configured by `env`; resolves once it is
 * ready, with its URL when `BENCH_MODE=server`.
 */
export function forkAppProcess(
  env: Record<string, string>,
  execArgv: readonly string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(new URL('./automations.server.ts', import.meta.url), {
    execArgv: ['--import', 'tsx', ...execArgv],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ready?: boolean; url?: string }) =>
      resolve({ child, url: m.url ?? '' }),
    );
    child.once('exit', (code) => reject(new Error(`bench process exited (${code})`)));
  });
}

/**
 * CPU time the whole machine spent busy so far (ms, every core; /proc/stat: user, nice,
 * system, irq, softirq): the difference over a window is what a run cost in CPU, whichever
 * process spent it. Undefined where /proc/stat is missing.
 */
export function machineBusyMs(): number | undefined {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.split(/\s+/) ?? [];
    const [user, nice, system, , , irq, softirq] = fields.map(Number);
    return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** SQL a bench process sent, counted at its driver (bench/automations.server.ts). */
export interface SqlCounts {
  statements: number;
  begins: number;
  commits: number;
  /** The process's own CPU time (user + system) since it reported ready. */
  cpuMs?: number;
}

/**
 * Asks a process of `forkAppProcess` to close; killed after 10 s. Resolves with the SQL it
 * reported sending.
 */
export async function stopAppProcess(child: ChildProcess): Promise<SqlCounts | undefined> {
  let counts: SqlCounts | undefined;
  child.on('message', (m: { sql?: SqlCounts }) => {
    if (m.sql) counts = m.sql;
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ cmd: 'stop' });
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
  return counts;
}

/**
 * Calls `send(i)` for i in [0, total) at `rate` per second (open loop: a slow answer does not
 * delay the next send); resolves when every call has settled, with the seconds that took.
 */
export async function atFixedRate(
  rate: number,
  total: number,
  send: (i: number) => Promise<void>,
): Promise<number> {
  const start = Date.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send(i));
  }
  await Promise.all(inflight);
  return (Date.now() - start) / 1000;
}

/** `DATABASE_URL`: the Postgres server a bench makes its own database on. */
export function benchPostgresUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error('set DATABASE_URL (a Postgres server; the bench creates its own database)');
  return url;
}

/** The value at quantile `q` of an ascending array (NaN when empty). */
export const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
