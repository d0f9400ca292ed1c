/**
 * Two-way sync under load, on a real Postgres and a real server process, against the fake
 * Linear on loopback:
 *
 * 1. Latency: task titles changed through `PATCH /api/v1/tasks/{id}` at BENCH_RATE (50) per
 *    second for BENCH_SECONDS (10), spread over BENCH_TASKS (100) synced tasks; for each change,
 *    the time from sending the PATCH to the fake Linear receiving the `issueUpdate` that
 *    carries it. Baseline in the same run: the PATCH's own answer.
 *    BENCH_WARMUP (2) seconds of the same traffic go first, unmeasured (cold JIT, the key's
 *    first verification, the pool filling): the figure is the steady state.
 * 2. Coalescing: BENCH_BURST (1,000) changes of the same tasks sent as fast as 16 connections
 *    allow; `issueUpdate` calls received once the outbox is empty, and whether every issue
 *    ends with its task's last title. Then (2b) the same burst while no pusher runs (a pusher
 *    that is down, held for reauthorization or behind on its budget), then a pusher started:
 *    the calls it makes once settled.
 * 3. Trigger cost: autocannon PATCHes (a new title each) on a synced task, on a task of the
 *    same container that is not synced (the trigger runs and finds no link), and on that task
 *    with the trigger disabled; server without the push worker, BENCH_ROUNDS interleaved rounds
 *    of BENCH_DURATION seconds.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test flock /tmp/monoid-bench.lock \
 *     npx tsx bench/two-way.ts
 *
 * Prints the figures (markdown) for docs/benchmarks-two-way.md.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import autocannon from 'autocannon';
import pg from 'pg';
import { signLinearBody } from '../src/modules/providers/linear/linear-signature.ts';
import { linearIssuePayload } from '../test/automations/fixtures.ts';
import { startFakeLinear } from '../test/helpers/fakes/linear-fake.ts';
import {
  atFixedRate,
  benchPostgresUrl,
  cpuMicros,
  createMigratedBenchDatabase,
  forkAppProcess,
  median,
  quantile,
  stopAppProcess,
} from './bench-kit.ts';
import { linearBenchEnv, linearBenchWorkspace } from './linear-bench-setup.ts';

const baseUrl = benchPostgresUrl();
const RATE = Number(process.env.BENCH_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TASKS = Number(process.env.BENCH_TASKS ?? 100);
const BURST = Number(process.env.BENCH_BURST ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const LINEAR_KEY = 'lin_api_bench_key';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

const forkServer = (env: Record<string, string>) =>
  forkAppProcess({ ...env, BENCH_MODE: 'server' });

async function main(): Promise<void> {
  const bench = await createMigratedBenchDatabase(baseUrl);
  const url = bench.url;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const startLoad = load();

  // The fake Linear keeps each issue and answers `issueUpdate` like Linear (the whole issue).
  const linear = await startFakeLinear({ tokens: [LINEAR_KEY] });
  const teamId = linear.teams[0]?.id ?? '';
  const issues = new Map<string, Record<string, unknown>>();
  const received: Array<{ at: number; id: string; title: unknown }> = [];
  const empty = { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };
  linear.handle('MonoidBackfillProjects', () => ({ team: { projects: empty } }));
  linear.handle('MonoidBackfillIssues', () => ({ issues: empty }));
  linear.handle('MonoidTeamStates', () => ({
    team: { states: { nodes: [{ id: 'st-todo', name: 'Todo', type: 'unstarted', position: 0 }] } },
  }));
  linear.handle('MonoidIssueUpdate', (variables) => {
    const id = String(variables.id);
    const issue = issues.get(id);
    if (!issue) throw new Error('Entity not found');
    const input = variables.input as Record<string, unknown>;
    received.push({ at: Date.now(), id, title: input.title });
    if (input.title !== undefined) issue.title = input.title;
    const last = Date.parse(String(issue.updatedAt));
    issue.updatedAt = new Date(Math.max(Date.now(), last + 1)).toISOString();
    return { issueUpdate: { success: true, issue: { ...issue, labels: { nodes: [] } } } };
  });

  const env = linearBenchEnv(url, linear);

  // Setup through the real services: a key, a container linked two-way to the team, TASKS
  // tasks synced from signed Issue webhooks, and one task of the container that is not synced.
  const workspace = await linearBenchWorkspace(env, linear, LINEAR_KEY);
  const { app: setup, containerId, hook } = workspace;
  const auth = { ...workspace.auth, 'content-type': 'application/json' };
  if (workspace.sync !== 'two_way') throw new Error('the bench link is not two_way');
  for (let i = 0; i < TASKS; i++) {
    const payload = linearIssuePayload({ teamId, title: `Issue ${i}`, webhookId: hook.id });
    issues.set(String((payload.data as { id: string }).id), { ...(payload.data as object) });
    const body = JSON.stringify(payload);
    const res = await setup.inject({
      method: 'POST',
      url: '/webhooks/linear',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'linear-delivery': randomUUID(),
        'linear-event': 'Issue',
        'linear-signature': signLinearBody(body, hook.secret),
      },
      payload: body,
    });
    if (res.statusCode !== 200) throw new Error(res.body);
  }
  await setup.inboxWorker.drain();
  const listed = await setup.inject({
    method: 'GET',
    url: `/api/v1/tasks?containerId=${containerId}&limit=500`,
    headers: auth,
  });
  const synced = (
    listed.json().data as Array<{ _id: string; externalLinks: Array<{ externalId: string }> }>
  ).flatMap((t) => {
    const issueId = t.externalLinks[0]?.externalId;
    return issueId ? [{ taskId: t._id, issueId }] : [];
  });
  if (synced.length !== TASKS) throw new Error(`${synced.length} of ${TASKS} tasks synced`);
  const plain = await setup.inject({
    method: 'POST',
    url: '/api/v1/tasks',
    headers: auth,
    payload: { title: 'not synced', containerId },
  });
  const plainTaskId = plain.json().data._id as string;
  await setup.close();

  const outboxLeft = async () =>
    Number(
      (await db.query(`select count(*)::int as n from linear_sync_outbox where state = 'pending'`))
        .rows[0].n,
    );
  const settle = async () => {
    for (let i = 0; i < 600 && (await outboxLeft()) > 0; i++) await sleep(100);
  };
  const patch = (server: string, taskId: string, title: string) =>
    fetch(`${server}/api/v1/tasks/${taskId}`, {
      method: 'PATCH',
      headers: auth,
      body: JSON.stringify({ title }),
    }).then(async (res) => {
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`PATCH ${res.status}`);
    });

  // ---- 1 and 2: a server running the API and the in-process worker (push included).
  const server = await forkServer({ ...env, AUTOMATION_WORKER_ENABLED: 'true' });
  const sentAt = new Map<string, number>();
  const answers: number[] = [];
  let refused = 0;
  const total = RATE * SECONDS;
  await atFixedRate(RATE, RATE * WARMUP, async (i) => {
    const target = synced[i % synced.length];
    if (target) await patch(server.url, target.taskId, `warm ${i}`).catch(() => undefined);
  });
  await settle();
  await atFixedRate(RATE, total, async (i) => {
    const target = synced[i % synced.length];
    if (!target) return;
    const title = `rate ${i}`;
    const t0 = Date.now();
    sentAt.set(title, t0);
    await patch(server.url, target.taskId, title).then(
      () => void answers.push(Date.now() - t0),
      () => {
        refused += 1;
      },
    );
  });
  await settle();
  // A change is at Linear when an issueUpdate of its issue carries it or a later change of the
  // same task (coalesced changes arrive together).
  const pushedAfter = [...sentAt].flatMap(([title, t0]) => {
    const i = Number(title.slice('rate '.length));
    const issueId = synced[i % synced.length]?.issueId;
    const hit = received.find(
      (r) =>
        r.id === issueId &&
        typeof r.title === 'string' &&
        r.title.startsWith('rate ') &&
        Number(r.title.slice('rate '.length)) >= i,
    );
    return hit ? [hit.at - t0] : [];
  });
  pushedAfter.sort((a, b) => a - b);
  answers.sort((a, b) => a - b);
  const latencyLoad = load();

  const last = new Map<string, string>();
  /** BURST changes of the synced tasks over 16 connections; seconds taken. */
  const burst = async (serverUrl: string, prefix: string) => {
    const queue = Array.from({ length: BURST }, (_, i) => i);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const target = synced[i % synced.length];
          if (!target) continue;
          const title = `${prefix} ${i}`;
          await patch(serverUrl, target.taskId, title);
          last.set(target.issueId, title);
        }
      }),
    );
    return (Date.now() - started) / 1000;
  };
  /** Once settled, does each issue hold its task's title, and its last answered one? */
  const agreement = async () => {
    const titles = await db.query(
      `select l.external_id as id, t.title from tasks t
         join external_links l on l.entity_type = 'task' and l.entity_id = t.id
        where l.provider = 'linear'`,
    );
    const rows = titles.rows as Array<{ id: string; title: string }>;
    return {
      tasks: rows.length,
      converged: rows.filter((r) => issues.get(r.id)?.title === r.title).length,
      lastKept: rows.filter((r) => last.get(r.id) === r.title).length,
    };
  };
  const callsBefore = received.length;
  const burstSeconds = await burst(server.url, 'burst');
  const callsDuringBurst = received.length - callsBefore;
  await settle();
  await sleep(1_000); // nothing more arrives once settled
  const burstCalls = received.length - callsBefore;
  const { tasks: syncedTasks, converged, lastKept } = await agreement();
  const burstLoad = load();
  await stopAppProcess(server.child);

  // ---- 2b: the same burst while no pusher runs, then a pusher started.
  const held = await forkServer({ ...env, AUTOMATION_WORKER_ENABLED: 'false' });
  last.clear();
  const heldSeconds = await burst(held.url, 'held');
  await stopAppProcess(held.child);
  const heldBefore = received.length;
  const pusher = await forkServer({ ...env, AUTOMATION_WORKER_ENABLED: 'true' });
  await settle();
  await sleep(1_000);
  const heldCalls = received.length - heldBefore;
  const heldAgreement = await agreement();
  await stopAppProcess(pusher.child);

  // ---- 3: trigger cost, a server without the push worker.
  const api = await forkServer({ ...env, AUTOMATION_WORKER_ENABLED: 'false' });
  const apiPid = api.child.pid ?? 0;
  const firstSynced = synced[0];
  if (!firstSynced) throw new Error('no synced task');
  let n = 0;
  const slice = async (taskId: string) => {
    const cpu0 = cpuMicros(apiPid);
    const result = await autocannon({
      url: api.url,
      connections: 8,
      duration: DURATION,
      requests: [
        {
          method: 'PATCH',
          path: `/api/v1/tasks/${taskId}`,
          headers: auth,
          setupRequest: (req) => {
            n += 1;
            return { ...req, body: JSON.stringify({ title: `ac ${n}` }) };
          },
        },
      ],
    });
    return {
      rps: result.requests.average,
      cpu: result.requests.total > 0 ? (cpuMicros(apiPid) - cpu0) / result.requests.total : 0,
      p99: result.latency.p99,
      non2xx: result.non2xx + result.errors,
    };
  };
  type Slice = Awaited<ReturnType<typeof slice>>;
  const kinds = { synced: [] as Slice[], plain: [] as Slice[], off: [] as Slice[] };
  await slice(plainTaskId); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    kinds.synced.push(await slice(firstSynced.taskId));
    kinds.plain.push(await slice(plainTaskId));
    await db.query('alter table tasks disable trigger tasks_sync_outbox');
    kinds.off.push(await slice(plainTaskId));
    await db.query('alter table tasks enable trigger tasks_sync_outbox');
  }
  await stopAppProcess(api.child);
  const outboxRows = Number(
    (await db.query('select count(*)::int as n from linear_sync_outbox')).rows[0].n,
  );
  await db.end();
  await linear.close();
  await bench.drop();

  const med = (xs: Slice[], k: keyof Slice) => median(xs.map((x) => x[k]));
  const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'n/a');
  const row = (label: string, xs: Slice[]) =>
    `| ${label} | ${f0(med(xs, 'rps'))} | ${f0(med(xs, 'cpu'))} | ${f0(med(xs, 'p99'))} | ${(med(xs, 'cpu') / med(kinds.plain, 'cpu')).toFixed(2)} | ${(med(kinds.plain, 'rps') / med(xs, 'rps')).toFixed(2)} | ${xs.reduce((s, x) => s + x.non2xx, 0)} |`;
  const p99 = quantile(pushedAfter, 0.99);
  console.log(`## Run ${new Date().toISOString().slice(0, 16)}Z

Machine: ${os.cpus().length} CPU, Node ${process.version}; load average ${startLoad} at the start.

### 1. \`PATCH /api/v1/tasks/{id}\` → \`issueUpdate\` received by the fake Linear (${RATE}/s × ${SECONDS} s over ${TASKS} tasks after ${WARMUP} s of unmeasured warm-up; load average ${latencyLoad} after)

| | p50 | p99 | max | count |
|---|---:|---:|---:|---:|
| baseline: the PATCH's answer | ${f0(quantile(answers, 0.5))} ms | ${f0(quantile(answers, 0.99))} ms | ${f0(answers.at(-1) ?? Number.NaN)} ms | ${answers.length} (${refused} refused) |
| change received by Linear | ${f0(quantile(pushedAfter, 0.5))} ms | ${f0(p99)} ms | ${f0(pushedAfter.at(-1) ?? Number.NaN)} ms | ${pushedAfter.length} of ${total} changes |
| ratio | ${(quantile(pushedAfter, 0.5) / quantile(answers, 0.5)).toFixed(1)} | ${(p99 / quantile(answers, 0.99)).toFixed(1)} | | |

Target p99 < 1 s at ${RATE} changes/s: ${p99 < 1000 ? '**met**' : '**not met**'}.

### 2. ${BURST} changes of ${TASKS} tasks (16 connections, sent in ${burstSeconds.toFixed(1)} s; load average ${burstLoad} after)

\`issueUpdate\` calls once settled: **${burstCalls}** (target ≤ ${TASKS}: ${burstCalls <= TASKS ? '**met**' : '**not met**'}); changes per call ${(BURST / burstCalls).toFixed(1)}; of them ${callsDuringBurst} while the changes were still being sent and ${burstCalls - callsDuringBurst} after the last change was answered; issues holding their task's title: ${converged} of ${syncedTasks}; tasks holding the last title their client was answered for: ${lastKept} of ${syncedTasks} (two PATCHes of one task can be in flight at once, so their answers may come in another order than their commits).

**2b. The same ${BURST} changes made while no pusher runs** (sent in ${heldSeconds.toFixed(1)} s), then a pusher started: \`issueUpdate\` calls once settled: **${heldCalls}** (target ≤ ${TASKS}: ${heldCalls <= TASKS ? '**met**' : '**not met**'}); issues holding their task's title: ${heldAgreement.converged} of ${heldAgreement.tasks}; holding the last answered title: ${heldAgreement.lastKept} of ${heldAgreement.tasks}.

### 3. Outbox trigger cost on \`PATCH /api/v1/tasks/{id}\` (autocannon, 8 connections, ${ROUNDS} × ${DURATION} s per kind, interleaved, medians; load average ${load()} at the end)

| task | req/s | server CPU µs/req | p99 ms | CPU ratio to not synced | time ratio (req/s of not synced ÷ this) | non-2xx |
|---|---:|---:|---:|---:|---:|---:|
${row('synced (trigger writes the outbox row)', kinds.synced)}
${row('not synced (baseline: trigger finds no link)', kinds.plain)}
${row('not synced, trigger disabled', kinds.off)}

Outbox rows left by part 3 (no push worker): ${outboxRows}.
`);
}

await main();
process.exit(0);
