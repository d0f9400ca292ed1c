/**
 * Start/stop cycles of the compiled server under light traffic, looking for a shutdown that
 * never ends. Each cycle starts `node dist/server.js`, waits for /readyz, keeps a few
 * keep-alive clients requesting, sends SIGTERM and waits for the exit. A cycle fails when the
 * process exits non-zero (the SHUTDOWN_TIMEOUT_MS deadline fired) or is still alive 2 s after
 * the deadline (a hang: it is then killed with SIGKILL and its output printed).
 *
 *   npm run build
 *   node --import tsx scripts/lifecycle-loop.ts --cycles 100 --parallel 2 --backend both
 *
 * `--backend postgres` needs DATABASE_URL (a throwaway database is created on that server);
 * `embedded` gives each parallel lane its own DATA_DIR, kept across its cycles, so the first
 * start is a fresh one and the rest start on existing data. Prints one JSON summary line per
 * back end; exits 1 when any cycle failed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { collectOutput, exitOf } from './child-output.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100' },
    parallel: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'both' },
    'shutdown-timeout-ms': { type: 'string', default: '5000' },
    server: { type: 'string', default: 'dist/server.js' },
  },
});
const cycles = Number(values.cycles);
const parallel = Math.max(1, Number(values.parallel));
const shutdownTimeoutMs = Number(values['shutdown-timeout-ms']);
const backends =
  values.backend === 'both' ? (['embedded', 'postgres'] as const) : [values.backend as Backend];
type Backend = 'embedded' | 'postgres';

interface CycleResult {
  readyMs: number;
  stopMs: number;
  requests: number;
  outcome: 'ok' | 'exit-code' | 'hang' | 'no-start';
  output?: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A few clients requesting in a loop until told to stop; counts answered requests. */
function lightTraffic(baseUrl: string): { stop: () => Promise<number> } {
  let running = true;
  let answered = 0;
  const paths = ['/healthz', '/readyz', '/openapi.json', '/api/v1/me'];
  const clients = Array.from({ length: 3 }, async (_, i) => {
    for (let n = i; running; n++) {
      await fetch(`${baseUrl}${paths[n % paths.length]}`).then(
        async (res) => {
          await res.arrayBuffer();
          answered += 1;
        },
        () => sleep(20), // refused while closing: expected
      );
      await sleep(30);
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(clients);
      return answered;
    },
  };
}

async function cycle(env: Record<string, string>): Promise<CycleResult> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const started = performance.now();
  const child = spawn(process.execPath, [values.server], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  collectOutput(child, (text) => {
    output += text;
  });
  const exited = exitOf(child);
  let ready = false;
  while (!ready && child.exitCode === null && performance.now() - started < 120_000) {
    ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await sleep(25);
  }
  const readyMs = performance.now() - started;
  if (!ready) {
    child.kill('SIGKILL');
    await exited;
    return { readyMs, stopMs: 0, requests: 0, outcome: 'no-start', output };
  }
  const traffic = lightTraffic(baseUrl);
  await sleep(150 + Math.random() * 250);
  const stopping = performance.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, sleep(shutdownTimeoutMs + 2_000).then(() => 'hang')]);
  const stopMs = performance.now() - stopping;
  const requests = await traffic.stop();
  if (code === 'hang') {
    child.kill('SIGKILL');
    await exited;
    return { readyMs, stopMs, requests, outcome: 'hang', output };
  }
  return code === 0
    ? { readyMs, stopMs, requests, outcome: 'ok' }
    : { readyMs, stopMs, requests, outcome: 'exit-code', output: `exit ${code}\n${output}` };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.floor(s.length / 2)] ?? 0) : 0;
};
const max = (xs: number[]) => Math.round(Math.max(0, ...xs));

async function runBackend(backend: Backend): Promise<boolean> {
  const common: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    AUTOMATION_POLL_MS: '200',
  };
  let dropDatabase = async (): Promise<void> => undefined;
  const dirs: string[] = [];
  const laneEnv: Array<Record<string, string>> = [];
  if (backend === 'postgres') {
    const base = process.env.DATABASE_URL;
    if (!base) throw new Error('--backend postgres needs DATABASE_URL');
    const name = `monoid_lifecycle_${Date.now()}_${process.pid}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    for (let i = 0; i < parallel; i++) laneEnv.push({ ...common, DATABASE_URL: url.toString() });
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    };
  } else {
    for (let i = 0; i < parallel; i++) {
      const dir = mkdtempSync(join(tmpdir(), 'monoid-lifecycle-'));
      dirs.push(dir);
      laneEnv.push({ ...common, DATABASE_URL: '', DATA_DIR: dir });
    }
  }
  const results: CycleResult[] = [];
  const firstStarts: number[] = [];
  const began = performance.now();
  let next = 0;
  try {
    await Promise.all(
      laneEnv.map(async (env) => {
        for (let first = true; next < cycles; first = false) {
          next += 1;
          const result = await cycle(env);
          results.push(result);
          if (first) firstStarts.push(result.readyMs);
          if (result.outcome !== 'ok')
            process.stderr.write(`[${backend}] cycle ${result.outcome}:\n${result.output ?? ''}\n`);
        }
      }),
    );
  } finally {
    await dropDatabase();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
  const ok = results.filter((r) => r.outcome === 'ok');
  const summary = {
    backend,
    cycles: results.length,
    parallel,
    ok: ok.length,
    hangs: results.filter((r) => r.outcome === 'hang').length,
    nonZeroExits: results.filter((r) => r.outcome === 'exit-code').length,
    noStart: results.filter((r) => r.outcome === 'no-start').length,
    firstStartReadyMs: backend === 'embedded' ? max(firstStarts) : undefined,
    readyMsMedian: median(results.map((r) => r.readyMs)),
    readyMsMax: max(results.map((r) => r.readyMs)),
    stopMsMedian: median(ok.map((r) => r.stopMs)),
    stopMsMax: max(ok.map((r) => r.stopMs)),
    requestsAnswered: results.reduce((n, r) => n + r.requests, 0),
    seconds: Math.round((performance.now() - began) / 1000),
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return ok.length === results.length;
}

let allOk = true;
for (const backend of backends) allOk = (await runBackend(backend)) && allOk;
process.exit(allOk ? 0 : 1);
