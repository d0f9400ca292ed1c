/**
 * Start-up time and memory of the compiled server (`dist/server.js`, built by this script when
 * a source is newer), on both back ends, against a baseline measured in the same run: bare
 * Fastify started by `node -e` (one route, no database). For each back end: a cold start (embedded: a fresh
 * DATA_DIR, the database created and migrated; Postgres: a fresh database, migrated) and
 * warm starts (the same data again, median of `BENCH_WARM_RUNS`, default 3). Per start:
 * - ready: spawn → first 200 from /readyz (wall clock, moved by the machine's load),
 * - start CPU: user + system CPU the process used until ready (barely moved by load),
 * - idle RSS: 3 s after ready with no traffic,
 * - peak RSS: the high-water mark (VmHWM) after a short burst over /healthz, /readyz,
 *   /openapi.json, /docs/ (loads the reference page) and /api/v1/me.
 *
 *   flock /tmp/monoid-bench.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/startup.ts
 *
 * Without DATABASE_URL only the embedded back end runs. Prints a Markdown table and `uptime`.
 */
import { type ChildProcess, execFileSync, execSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminQuery, benchDatabase, cpuMicros, median, rssKb } from './bench-kit.ts';

const warmRuns = Number(process.env.BENCH_WARM_RUNS ?? 3);
const base = process.env.DATABASE_URL;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Start {
  readyMs: number;
  cpuMs: number;
  idleMb: number;
  peakMb: number;
}

function peakKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

let nextPort = 4100 + Math.floor(Math.random() * 500);

async function measureStart(
  args: string[],
  env: Record<string, string>,
  burst: string[],
): Promise<Start> {
  const port = nextPort++;
  const began = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pid = child.pid ?? 0;
  const url = `http://127.0.0.1:${port}`;
  let ready = false;
  while (!ready) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited during start`);
    ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await sleep(20);
  }
  const readyMs = performance.now() - began;
  const cpuMs = cpuMicros(pid) / 1000;
  await sleep(3_000);
  const idleMb = rssKb(pid) / 1024;
  for (let round = 0; round < 20; round++)
    await Promise.all(burst.map((path) => fetch(`${url}${path}`).then((r) => r.arrayBuffer())));
  const peakMb = peakKb(pid) / 1024;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return { readyMs, cpuMs, idleMb, peakMb };
}

const baselineScript = `import('fastify').then(async ({ default: Fastify }) => {
  const app = Fastify();
  app.get('/readyz', async () => ({ status: 'ready' }));
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
});`;

const rows: Array<{ name: string; start: Start }> = [];
const warm = async (name: string, run: () => Promise<Start>) => {
  const starts: Start[] = [];
  for (let i = 0; i < warmRuns; i++) starts.push(await run());
  const pick = (key: keyof Start) => median(starts.map((s) => s[key]));
  rows.push({
    name,
    start: {
      readyMs: pick('readyMs'),
      cpuMs: pick('cpuMs'),
      idleMb: pick('idleMb'),
      peakMb: pick('peakMb'),
    },
  });
};

execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { stdio: 'inherit' });
const server = ['dist/server.js'];
const burst = ['/healthz', '/readyz', '/openapi.json', '/docs/', '/api/v1/me'];
const secrets = { ENCRYPTION_KEY: randomBytes(32).toString('base64') };

await warm('baseline: bare Fastify (`node -e`)', () =>
  measureStart(['-e', baselineScript], {}, ['/readyz']),
);

const dataDir = mkdtempSync(join(tmpdir(), 'monoid-startup-'));
try {
  const env = { ...secrets, DATA_DIR: dataDir };
  rows.push({
    name: 'embedded, cold (new DATA_DIR)',
    start: await measureStart(server, env, burst),
  });
  await warm('embedded, warm (existing data)', () => measureStart(server, env, burst));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

if (base) {
  const db = benchDatabase(base);
  await adminQuery(base, `CREATE DATABASE "${db.name}"`);
  try {
    const env = { ...secrets, DATABASE_URL: db.url, DATA_DIR: join(tmpdir(), 'monoid-unused') };
    rows.push({
      name: 'Postgres, cold (new database)',
      start: await measureStart(server, env, burst),
    });
    await warm('Postgres, warm (migrated)', () => measureStart(server, env, burst));
  } finally {
    await adminQuery(base, `DROP DATABASE IF EXISTS "${db.name}" WITH (FORCE)`);
  }
}

const baseline = rows[0]?.start;
const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(1)}×` : '');
const lines = [
  '| start | ready (ms) | × baseline | start CPU (ms) | × baseline | idle RSS (MB) | × baseline | peak RSS (MB) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    ({ name, start: s }) =>
      `| ${name} | ${Math.round(s.readyMs)} | ${ratio(s.readyMs, baseline?.readyMs)} | ${Math.round(s.cpuMs)} | ${ratio(s.cpuMs, baseline?.cpuMs)} | ${Math.round(s.idleMb)} | ${ratio(s.idleMb, baseline?.idleMb)} | ${Math.round(s.peakMb)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n\n${execSync('uptime').toString().trim()}\n`);
