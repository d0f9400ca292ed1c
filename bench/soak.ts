/**
 * Soak (not a test, not in CI): mixed API, settings and webhook traffic against one server
 * process for SOAK_SECONDS (default 600), reported per window so that drift in latency or
 * memory shows. Run:
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/soak.ts
 * Env: SOAK_SECONDS (600), SOAK_WINDOW_SECONDS (30), SOAK_OUT (docs/benchmarks-soak.md).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { signLinearBody } from '../src/modules/providers/linear/linear-signature.ts';
import { linearIssuePayload } from '../test/automations/fixtures.ts';
import { startProcessHarness } from '../test/automations/harness.ts';
import { mintSessionToken } from '../test/helpers/clerk.ts';
import { startServerProcess } from '../test/helpers/server-process.ts';

const TOTAL = Number(process.env.SOAK_SECONDS ?? 600);
const WINDOW = Number(process.env.SOAK_WINDOW_SECONDS ?? 30);
const OUT = process.env.SOAK_OUT ?? 'docs/benchmarks-soak.md';

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const harness = await startProcessHarness({
  API_RATE_LIMIT_PER_MINUTE: '10000000',
  ADDRESS_RATE_LIMIT_PER_MINUTE: '10000000',
  LOG_LEVEL: 'warn',
});
const { h } = harness;
const server = await startServerProcess(harness.env);
const pid = server.child.pid ?? 0;
const session = mintSessionToken({
  sub: h.clerkUserId,
  exp: Math.floor(Date.now() / 1000) + 4 * 3600,
});

interface Row {
  window: number;
  api: autocannon.Result;
  write: autocannon.Result;
  settings: autocannon.Result;
  webhook: autocannon.Result;
  rss: number;
}
const rows: Row[] = [];

function run(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

const base = server.baseUrl;
for (let w = 0; w * WINDOW < TOTAL; w++) {
  const [api, write, settings, webhook] = await Promise.all([
    run({
      url: `${base}/api/v1/tasks?limit=20`,
      connections: 4,
      duration: WINDOW,
      overallRate: 200,
      headers: h.auth,
    }),
    run({
      url: `${base}/api/v1/tasks`,
      connections: 2,
      duration: WINDOW,
      overallRate: 20,
      method: 'POST',
      headers: { ...h.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Soak task', bucket: 'todo' }),
    }),
    run({
      url: `${base}/api/settings/api-keys`,
      connections: 1,
      duration: WINDOW,
      overallRate: 10,
      headers: { authorization: `Bearer ${session}` },
    }),
    run({
      url: `${base}/webhooks/linear`,
      connections: 2,
      duration: WINDOW,
      overallRate: 20,
      method: 'POST',
      requests: [
        {
          setupRequest: (req) => {
            const payload = linearIssuePayload({ teamId: h.teamId, title: 'Soak issue' });
            const body = JSON.stringify({
              ...payload,
              webhookId: h.webhookId,
              webhookTimestamp: Date.now(),
            });
            return {
              ...req,
              method: 'POST',
              body,
              headers: {
                'content-type': 'application/json; charset=utf-8',
                'linear-delivery': randomUUID(),
                'linear-event': 'Issue',
                'linear-signature': signLinearBody(body, h.secret),
              },
            };
          },
        },
      ],
    }),
  ]);
  const row = { window: w + 1, api, write, settings, webhook, rss: rssMiB(pid) };
  rows.push(row);
  process.stdout.write(
    `window ${row.window}: api p99 ${api.latency.p99} ms, write p99 ${write.latency.p99} ms, settings p99 ${settings.latency.p99} ms, webhook p99 ${webhook.latency.p99} ms, rss ${row.rss} MiB, errors ${api.non2xx + write.non2xx + settings.non2xx + webhook.non2xx}\n`,
  );
}

const fmt = (r: autocannon.Result) =>
  `${r.requests.average}/s · ${r.latency.p50} / ${r.latency.p99} ms`;
const table = [
  '| window | GET /api/v1/tasks (req/s · p50 / p99) | POST /api/v1/tasks | GET /api/settings/api-keys | POST /webhooks/linear | non-2xx | server RSS |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.window} | ${fmt(r.api)} | ${fmt(r.write)} | ${fmt(r.settings)} | ${fmt(r.webhook)} | ${r.api.non2xx + r.write.non2xx + r.settings.non2xx + r.webhook.non2xx} | ${r.rss} MiB |`,
  ),
].join('\n');
writeFileSync(
  OUT,
  `# Soak: mixed traffic over ${TOTAL} s\n\nCommand: \`DATABASE_URL=postgres://postgres@127.0.0.1:5432/test SOAK_SECONDS=${TOTAL} npx tsx bench/soak.ts\` (run on ${new Date().toISOString()}).\nOne server process (Postgres, automation worker on); windows of ${WINDOW} s; rates fixed per class (200 + 20 + 10 + 20 req/s).\n\n${table}\n`,
);
server.kill('SIGTERM');
await server.exited;
await harness.close();
process.exit(0);
