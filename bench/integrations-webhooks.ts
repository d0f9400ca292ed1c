/**
 * Signed Linear deliveries at fixed rates against a real server (listening on loopback) and a
 * real database: accepted per second, p50/p99 latency, insert statements (= commits) per
 * delivery, and the inbox row count, which must equal the number of acknowledged (200)
 * deliveries exactly. Two baselines at the same rate in the same run, so figures can be read
 * as ratios on any machine: `GET /healthz` of the server (the machine and the load
 * generator), and on Postgres a bare Fastify + pg server storing each delivery with the same
 * insert, one autocommitted insert per request (bench/integrations-webhooks.baseline.ts).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/integrations-webhooks.ts
 *   npx tsx bench/integrations-webhooks.ts            # embedded database (PGlite)
 *
 * Options (env): BENCH_RATES=500,1000,1500  BENCH_SECONDS=10  BENCH_CONNECTIONS=100
 * Writes the Postgres section of docs/benchmarks-integrations.md unless BENCH_NO_WRITE=1.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { signLinearBody } from '../src/modules/providers/linear/linear-signature.ts';

const rates = (process.env.BENCH_RATES ?? '500,1000,1500').split(',').map(Number);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 100);
const DOC = 'docs/benchmarks-integrations.md';

interface Ready {
  ready: true;
  url: string;
  webhookId: string;
  secret: string;
  teamId: string;
  organizationId: string;
  engine: string;
  databaseUrl: string | null;
  connectionId: string;
}

function nextMessage<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (key in message) {
        child.off('message', onMessage);
        resolve(message as T);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`bench server exited (${code})`)));
  });
}

/** The bare baseline server (Postgres only); resolves with its URL once it listens. */
function startBaseline(ready: Ready): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL('./integrations-webhooks.baseline.ts', import.meta.url).pathname],
    {
      env: {
        ...process.env,
        DATABASE_URL: ready.databaseUrl ?? '',
        BENCH_CONNECTION_ID: ready.connectionId,
        PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) =>
      resolve({ url: chunk.toString('utf8').trim(), child }),
    );
    child.once('exit', (code) => reject(new Error(`baseline server exited (${code})`)));
  });
}

async function main(): Promise<void> {
  // The server runs in its own process: the load generator must not share its event loop.
  const child = fork(new URL('./integrations-webhooks.server.ts', import.meta.url), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await nextMessage<Ready>(child, 'ready');
  const { url: base, webhookId, secret, teamId } = ready;
  const counts = async () => {
    const reply = nextMessage<{ count: number; inserts: number }>(child, 'count');
    child.send({ cmd: 'count' });
    return reply;
  };
  const countRows = async () => (await counts()).count;
  const bare = ready.databaseUrl ? await startBaseline(ready) : undefined;

  const signedRequest = () => ({
    method: 'POST' as const,
    path: '/webhooks/linear',
    setupRequest: (req: autocannon.Request) => {
      const now = Date.now();
      const body = JSON.stringify({
        action: 'update',
        type: 'Issue',
        createdAt: new Date(now).toISOString(),
        organizationId: ready.organizationId,
        url: 'https://linear.app/acme/issue/ENG-1',
        webhookId,
        webhookTimestamp: now,
        data: { id: randomUUID(), title: 'Benchmark issue', teamId, priority: 2, estimate: 3 },
        updatedFrom: { updatedAt: new Date(now - 1000).toISOString(), priority: 1 },
        actor: { id: randomUUID(), type: 'user', name: 'Ada', email: 'ada@example.com' },
      });
      return {
        ...req,
        body,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'linear-delivery': randomUUID(),
          'linear-event': 'Issue',
          'linear-signature': signLinearBody(body, secret),
        },
      };
    },
  });

  // A fixed amount at a fixed rate (not a duration): every request sent is awaited, so the
  // acknowledged count is exact.
  const run = (rate: number, requests: autocannon.Request[], secs = seconds, url = base) =>
    autocannon({
      url,
      connections,
      overallRate: rate,
      amount: rate * secs,
      timeout: 10,
      requests,
    });

  // Warm-up (JIT, pool connections, secret cache); its rows are subtracted below.
  await run(100, [signedRequest()], 3);
  if (bare) await run(100, [signedRequest()], 3, bare.url);

  const loadBefore = loadavg()[0] ?? 0;
  const lines: string[] = [];
  const verdicts: string[] = [];
  let acknowledgedTotal = 0;
  let storedTotal = 0;
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(1) : 'n/a');
  const cell = (r: autocannon.Result | undefined) =>
    r ? `${r.latency.p50} / ${r.latency.p99}` : 'n/a';
  for (const rate of rates) {
    const health = await run(rate, [{ method: 'GET', path: '/healthz' }]);
    let bareResult: autocannon.Result | undefined;
    let bareStored = 0;
    if (bare) {
      const before = await countRows();
      bareResult = await run(rate, [signedRequest()], seconds, bare.url);
      bareStored = (await countRows()) - before;
    }
    const before = await counts();
    const result = await run(rate, [signedRequest()]);
    const after = await counts();
    const stored = after.count - before.count;
    const acknowledged = result['2xx'];
    acknowledgedTotal += acknowledged;
    storedTotal += stored;
    const row = {
      rate,
      acceptedPerSecond: acknowledged / (result.duration || seconds),
      p50: result.latency.p50,
      p99: result.latency.p99,
      commitsPerDelivery: acknowledged > 0 ? (after.inserts - before.inserts) / acknowledged : 0,
      health: { p50: health.latency.p50, p99: health.latency.p99 },
      bare: bareResult
        ? {
            acceptedPerSecond: bareResult['2xx'] / (bareResult.duration || seconds),
            p50: bareResult.latency.p50,
            p99: bareResult.latency.p99,
            acknowledged: bareResult['2xx'],
            stored: bareStored,
          }
        : undefined,
      failed: result.non2xx + result.errors + result.timeouts,
      acknowledged,
      stored,
    };
    lines.push(
      `| ${rate} | ${row.acceptedPerSecond.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.commitsPerDelivery.toFixed(2)} | ${row.bare ? row.bare.acceptedPerSecond.toFixed(0) : 'n/a'} | ${cell(bareResult)} | ${bareResult ? `${ratio(row.p99, bareResult.latency.p99)}×` : 'n/a'} | ${cell(health)} | ${ratio(row.p99, health.latency.p99)}× | ${row.failed} | ${acknowledged} | ${stored} | ${stored === acknowledged && (!bareResult || bareStored === bareResult['2xx']) ? 'yes' : '**NO**'} |`,
    );
    if (rate === 500 || rate === 1000)
      verdicts.push(
        `At ${rate} deliveries/s: ${row.acceptedPerSecond.toFixed(0)} accepted/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.commitsPerDelivery.toFixed(2)} commits per delivery${bareResult ? ` (bare single-insert baseline: p99 ${bareResult.latency.p99} ms)` : ''} — the 50 ms p99 target is ${row.p99 < 50 ? 'met' : 'not met in this run'}.`,
      );
    process.stdout.write(`${JSON.stringify(row)}\n`);
  }
  const loadAfter = loadavg()[0] ?? 0;

  bare?.child.kill('SIGTERM');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send({ cmd: 'stop' });
  await exited;

  const engine = ready.engine;
  const onPostgres = engine.startsWith('Postgres');
  const doc = `# Benchmark: incoming Linear webhooks

Signed Linear deliveries (\`POST /webhooks/linear\`, each with a fresh \`Linear-Delivery\`,
\`webhookTimestamp\` and HMAC signature, ~600-byte Issue update payload) at fixed request rates
for ${seconds} s each, ${connections} connections, against the server (its own process) listening on
loopback with request logging on (to a discarding stream) and ${engine}. Concurrent deliveries
share commits (group commit, see [architecture](architecture.md#how-a-delivery-travels)); every
200 still follows the commit of its row.

Two baselines at the same rate in the same run: a **bare Fastify + pg** server (its own process,
a pool of 10) storing each delivery with the same insert statement, one autocommitted insert
per request, without signature check or validation (\`bench/integrations-webhooks.baseline.ts\`);
and \`GET /healthz\` of the server, which measures the machine and the load generator. The
ratio columns are the figures that transfer to other machines.

Target (issue 12): 1,000 deliveries/s accepted with p99 < 50 ms, acknowledged = stored at
every rate; Linear gives up after 5 s.

Command:

\`\`\`sh
${onPostgres ? 'DATABASE_URL=postgres://postgres@127.0.0.1:5432/test ' : ''}flock /tmp/monoid-bench.lock npx tsx bench/integrations-webhooks.ts
\`\`\`

Run on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, a 2-core machine shared with other
work (figures are noisy; compare ratios, not absolute values).

Machine load average (1 min) ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the run${loadBefore > 2 ? ' — more than the 2 cores: other processes were competing, and tail latencies include their scheduling delays' : ''}.

| rate (req/s) | accepted/s | p50 ms | p99 ms | commits per delivery | bare insert accepted/s | bare insert p50 / p99 ms | p99 ÷ bare | healthz p50 / p99 ms | p99 ÷ healthz | failed | acknowledged (200) | inbox rows added | rows = acks |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${lines.join('\n')}

Total over all steps of the server: ${acknowledgedTotal} acknowledged, ${storedTotal} rows stored.

${verdicts.join('\n\n')}

How to read it: every 200 is a committed inbox row (the insert autocommits before the reply),
and every delivery is unique, so the two counts must be equal (for the bare baseline too);
any difference would be a lost or phantom event. "Commits per delivery" counts the server's
insert statements (each one autocommitted) over its acknowledged deliveries: 1.00 is one
commit each, less is deliveries sharing commits.
`;
  // The sections after the generated one (other engines, notes) are kept.
  const rest = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  const kept = rest.indexOf('\n## ');
  if (process.env.BENCH_NO_WRITE !== '1')
    writeFileSync(DOC, `${doc}${kept >= 0 ? rest.slice(kept) : ''}`);
  process.stdout.write(doc);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
