/**
 * The automation engine under load, on a real Postgres and real processes:
 *
 * 1. Latency: signed Linear Issue deliveries at each of BENCH_RATES (default 200,500) per second for
 *    BENCH_SECONDS against a server running the in-process worker; for each issue, the time
 *    from sending the webhook to the task being visible through GET /api/v1/tasks with an API
 *    key (polled every BENCH_POLL_MS). Baseline in the same run: the webhook acknowledgement
 *    itself (the 200 that must come before any processing).
 *    Then single deliveries at rest (BENCH_REST_SAMPLES), one at a time.
 * 2. Throughput: BENCH_EVENTS events waiting in the inbox, drained by one worker process for
 *    each of BENCH_DRAINS (batch size x worker concurrency), against a bare-SQL baseline that
 *    writes the same rows in the same batch size; statements and commits counted at the
 *    worker's driver.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/automations.ts
 *
 * Needs Postgres (several processes share the inbox). Writes docs/benchmarks-automations.md
 * unless BENCH_NO_WRITE=1.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { signLinearBody } from '../src/modules/providers/linear/linear-signature.ts';
import { startFakeLinear } from '../test/helpers/fakes/linear-fake.ts';
import {
  atFixedRate,
  benchPostgresUrl,
  createMigratedBenchDatabase,
  forkAppProcess,
  machineBusyMs,
  quantile,
  stopAppProcess,
} from './bench-kit.ts';
import { linearBenchEnv, linearBenchWorkspace } from './linear-bench-setup.ts';

const baseUrl = benchPostgresUrl();
const RATES = (process.env.BENCH_RATES ?? '200,500').split(',').filter(Boolean).map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 25);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 4000);
/** Drains measured: batch size x batches in flight (worker concurrency), one process each. */
const DRAINS = (process.env.BENCH_DRAINS ?? '64x1,16x4,64x4,250x2').split(',').map((d) => {
  const [batch, concurrency] = d.split('x').map(Number);
  return { batch: batch ?? 64, concurrency: concurrency ?? 1 };
});
const REST_SAMPLES = Number(process.env.BENCH_REST_SAMPLES ?? 30);
/** BENCH_CPU_PROF=<dir>: the worker processes write a CPU profile there (node --cpu-prof). */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;

/** Machine CPU (ms, all cores) spent since `from` (`machineBusyMs`). */
function cpuSince(from: number | undefined): number {
  const now = machineBusyMs();
  return from === undefined || now === undefined ? Number.NaN : now - from;
}
const LINEAR_KEY = 'lin_api_bench_key';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const bench = await createMigratedBenchDatabase(baseUrl);
  const url = bench.url;

  const linear = await startFakeLinear({ tokens: [LINEAR_KEY] });
  const empty = { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };
  linear.handle('MonoidBackfillProjects', () => ({ team: { projects: empty } }));
  linear.handle('MonoidBackfillIssues', () => ({ issues: empty }));
  const env: Record<string, string> = {
    ...linearBenchEnv(url, linear),
    AUTOMATION_WORKER_CONCURRENCY: process.env.AUTOMATION_WORKER_CONCURRENCY ?? '1',
    AUTOMATION_BATCH_SIZE: process.env.AUTOMATION_BATCH_SIZE ?? '64',
  };

  const {
    app: setup,
    auth,
    containerId,
    teamId,
    hook,
  } = await linearBenchWorkspace(env, linear, LINEAR_KEY);
  await setup.close();

  const delivery = (issueId: string) => {
    const now = Date.now();
    const body = JSON.stringify({
      action: 'create',
      type: 'Issue',
      createdAt: new Date(now).toISOString(),
      organizationId: linear.organization.id,
      url: `https://linear.app/acme/issue/${issueId}`,
      webhookId: hook.id,
      webhookTimestamp: now,
      data: {
        id: issueId,
        title: `Bench ${issueId.slice(0, 8)}`,
        description: 'Benchmark issue',
        teamId,
        team: { id: teamId, key: 'ENG', name: 'Engineering' },
        state: { id: 's', name: 'Todo', type: 'unstarted' },
        updatedAt: new Date(now).toISOString(),
        createdAt: new Date(now).toISOString(),
        labels: [],
      },
      actor: { id: randomUUID(), type: 'user', name: 'Ada', email: 'ada@example.com' },
    });
    return {
      body,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'linear-delivery': randomUUID(),
        'linear-event': 'Issue',
        'linear-signature': signLinearBody(body, hook.secret ?? ''),
      },
    };
  };

  // ---- 1. latency at each rate, API + in-process worker in one server process.
  const latencyAt = async (RATE: number) => {
    const server = await forkAppProcess({
      ...env,
      BENCH_MODE: 'server',
      AUTOMATION_WORKER_ENABLED: 'true',
    });
    const sentAt = new Map<string, number>();
    const seenAt = new Map<string, number>();
    const acks: number[] = [];
    let failures = 0;
    let polling = true;
    // The newest 100 tasks (the list is ordered by updatedAt desc): light enough not to load
    // the server it measures.
    const poller = (async () => {
      while (polling) {
        const res = await fetch(`${server.url}/api/v1/tasks?containerId=${containerId}&limit=100`, {
          headers: auth,
        });
        const now = Date.now();
        if (res.ok) {
          const body = (await res.json()) as {
            data: Array<{ externalLinks: Array<{ externalId: string }> }>;
          };
          for (const t of body.data) {
            const id = t.externalLinks[0]?.externalId;
            if (id && sentAt.has(id) && !seenAt.has(id)) seenAt.set(id, now);
          }
        } else await res.arrayBuffer();
        await sleep(POLL_MS);
      }
    })();
    const total = RATE * SECONDS;
    const sendSeconds = await atFixedRate(RATE, total, () => {
      const id = randomUUID();
      const { body, headers } = delivery(id);
      const t0 = Date.now();
      sentAt.set(id, t0);
      return fetch(`${server.url}/webhooks/linear`, { method: 'POST', body, headers }).then(
        async (res) => {
          await res.arrayBuffer();
          if (res.ok) acks.push(Date.now() - t0);
          else failures += 1;
        },
        () => {
          failures += 1;
        },
      );
    });
    for (let i = 0; i < 600 && seenAt.size < sentAt.size - failures; i++) await sleep(100);
    polling = false;
    await poller;
    await stopAppProcess(server.child);
    const visible = [...seenAt.entries()]
      .map(([id, at]) => at - (sentAt.get(id) ?? at))
      .sort((a, b) => a - b);
    acks.sort((a, b) => a - b);
    return { RATE, total, sendSeconds, visible, acks, failures, sent: sentAt.size };
  };
  const latencies: Array<Awaited<ReturnType<typeof latencyAt>>> = [];
  for (const rate of RATES) latencies.push(await latencyAt(rate));

  // ---- 1b. a single delivery at rest: sent alone, its task polled for every 5 ms.
  const restLatency = async () => {
    const server = await forkAppProcess({
      ...env,
      BENCH_MODE: 'server',
      AUTOMATION_WORKER_ENABLED: 'true',
    });
    const samples: number[] = [];
    for (let i = 0; i < REST_SAMPLES; i++) {
      const id = randomUUID();
      const { body, headers } = delivery(id);
      const t0 = Date.now();
      const ack = await fetch(`${server.url}/webhooks/linear`, { method: 'POST', body, headers });
      await ack.arrayBuffer();
      for (let k = 0; k < 400; k++) {
        const res = await fetch(`${server.url}/api/v1/tasks?containerId=${containerId}&limit=5`, {
          headers: auth,
        });
        const page = (await res.json()) as {
          data?: Array<{ externalLinks: Array<{ externalId: string }> }>;
        };
        if (page.data?.some((t) => t.externalLinks[0]?.externalId === id)) {
          samples.push(Date.now() - t0);
          break;
        }
        await sleep(5);
      }
      await sleep(250);
    }
    await stopAppProcess(server.child);
    return samples.sort((a, b) => a - b);
  };
  const rest = REST_SAMPLES > 0 ? await restLatency() : [];

  // ---- 2. throughput: events waiting in the inbox, drained by one worker process, against a
  // bare-SQL baseline that writes the same rows in the same batch sizes.
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const backlog = async (): Promise<number> =>
    Number(
      (
        await db.query(
          `select count(*)::int as n from inbox_events where state in ('pending','processing')`,
        )
      ).rows[0].n,
    );
  /** EVENTS signed deliveries through the webhook route of a process without a worker. */
  const fill = async (): Promise<number> => {
    const intake = await forkAppProcess({
      ...env,
      BENCH_MODE: 'server',
      AUTOMATION_WORKER_ENABLED: 'false',
    });
    const queue = Array.from({ length: EVENTS }, () => randomUUID());
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let id = queue.pop(); id; id = queue.pop()) {
          const { body, headers } = delivery(id);
          const res = await fetch(`${intake.url}/webhooks/linear`, {
            method: 'POST',
            body,
            headers,
          });
          await res.arrayBuffer();
        }
      }),
    );
    await stopAppProcess(intake.child);
    return backlog();
  };
  const drainWith = async (batch: number, concurrency: number) => {
    const waiting = await fill();
    const worker = await forkAppProcess(
      {
        ...env,
        BENCH_MODE: 'worker',
        AUTOMATION_WORKER_ENABLED: 'true',
        AUTOMATION_BATCH_SIZE: String(batch),
        AUTOMATION_WORKER_CONCURRENCY: String(concurrency),
      },
      PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
    );
    const t0 = Date.now();
    const cpu0 = machineBusyMs();
    while ((await backlog()) > 0) await sleep(50);
    const secs = (Date.now() - t0) / 1000;
    const cpuMs = cpuSince(cpu0);
    const counts = await stopAppProcess(worker.child);
    return { batch, concurrency, waiting, secs, rate: waiting / secs, counts, cpuMs };
  };
  const json = (v: unknown) => JSON.stringify(v);
  const ownerId = String(
    (await db.query('select user_id from containers where id = $1', [containerId])).rows[0].user_id,
  );
  /** No engine: claim, then the task, link, external item, run and inbox rows, per batch. */
  const bareSql = async (batch: number) => {
    const waiting = await fill();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const t0 = Date.now();
    const cpu0 = machineBusyMs();
    let batches = 0;
    for (;;) {
      await c.query('begin');
      const claimed = await c.query<{ id: string; ext: string; title: string; url: string }>(
        `update inbox_events set state = 'processing', attempts = attempts + 1,
           locked_until = now() + interval '60 seconds', locked_by = 'bare-sql'
         where id in (select id from inbox_events where state = 'pending'
           and next_attempt_at <= now() order by next_attempt_at limit $1 for update skip locked)
         returning id::text, payload->'data'->>'id' as ext, payload->'data'->>'title' as title,
           payload->>'url' as url`,
        [batch],
      );
      if (claimed.rows.length === 0) {
        await c.query('commit');
        break;
      }
      const now = Date.now();
      const rows = claimed.rows.map((r) => ({ ...r, task: randomUUID() }));
      await c.query(
        `insert into tasks (id, user_id, workspace_id, title, notes, bucket, container_id, created_at, updated_at)
         select task, $2::uuid, $2::uuid, title, 'Benchmark issue', 'todo', $3::uuid, $4, $4
         from jsonb_to_recordset($1::jsonb) as v(task uuid, title text)`,
        [json(rows), ownerId, containerId, now],
      );
      await c.query(
        `insert into external_links (provider, external_id, url, title, entity_type, entity_id, container_id, created_at, updated_at)
         select 'linear', ext, url, title, 'task', task, $2::uuid, $3, $3
         from jsonb_to_recordset($1::jsonb) as v(task uuid, ext text, url text, title text)`,
        [json(rows), containerId, now],
      );
      await c.query(
        `insert into automation_external_items (workspace_key, provider, external_id, item_type, container_key, item_id, version_at)
         select $2, 'linear', ext, 'task', $3, task, $4
         from jsonb_to_recordset($1::jsonb) as v(task uuid, ext text)`,
        [json(rows), `user:${ownerId}`, containerId, now],
      );
      await c.query(
        `insert into automation_runs (inbox_event_id, target_key, kind, container_id, user_id, status, matched, attempts)
         select id, $2, 'sync', $3::uuid, $4::uuid, 'succeeded', true, 1
         from jsonb_to_recordset($1::jsonb) as v(id uuid)`,
        [json(rows), `sync:${containerId}`, containerId, ownerId],
      );
      await c.query(
        `update inbox_events set state = 'processed', processed_at = now(), locked_until = null,
           locked_by = null where id = any($1::uuid[])`,
        [rows.map((r) => r.id)],
      );
      await c.query('commit');
      batches += 1;
    }
    const secs = (Date.now() - t0) / 1000;
    const cpuMs = cpuSince(cpu0);
    await c.end();
    return { batch, waiting, secs, rate: waiting / secs, batches, cpuMs };
  };
  const drains = [];
  const baselines = new Map<number, Awaited<ReturnType<typeof bareSql>>>();
  for (const d of DRAINS) {
    if (!baselines.has(d.batch)) baselines.set(d.batch, await bareSql(d.batch));
    drains.push(await drainWith(d.batch, d.concurrency));
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  const tasks = Number((await db.query('select count(*)::int as n from tasks')).rows[0].n);
  const dead = Number(
    (await db.query(`select count(*)::int as n from inbox_events where state = 'failed'`)).rows[0]
      .n,
  );
  const runs = Number(
    (await db.query(`select count(*)::int as n from automation_runs where status = 'succeeded'`))
      .rows[0].n,
  );
  await db.end();
  await linear.close();
  await bench.drop();

  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
  const r = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  const acked = latencies.reduce((n, l) => n + l.acks.length, 0);
  const expected =
    acked +
    REST_SAMPLES +
    drains.reduce((n, d) => n + d.waiting, 0) +
    [...baselines.values()].reduce((n, b) => n + b.waiting, 0);
  const rows = latencies
    .map((l) => {
      const p50a = quantile(l.acks, 0.5);
      const p99a = quantile(l.acks, 0.99);
      const p50v = quantile(l.visible, 0.5);
      const p99v = quantile(l.visible, 0.99);
      return `| ${l.RATE}/s × ${SECONDS} s (sent in ${l.sendSeconds.toFixed(1)} s) | ${f(p50a)} / ${f(p99a)} ms | ${f(p50v)} / ${f(p99v)} ms | ${r(p50v, p50a)} / ${r(p99v, p99a)} | ${l.visible.length} of ${l.sent} (${l.failures} deliveries refused) |`;
    })
    .join('\n');
  const p99At = (rate: number) => {
    const l = latencies.find((x) => x.RATE === rate);
    return l ? quantile(l.visible, 0.99) : Number.NaN;
  };
  const restP50 = quantile(rest, 0.5);
  const verdict = (ok: boolean) => (ok ? '**met**' : '**not met** on this machine');
  const drainRows = drains
    .map((d) => {
      const base = baselines.get(d.batch);
      const batches = d.counts?.begins ?? 0;
      const per = (n: number | undefined, by: number) =>
        n !== undefined && by > 0 ? (n / by).toFixed(1) : 'n/a';
      const cpu = (run?: { cpuMs: number; waiting: number }) =>
        run ? (run.cpuMs / run.waiting) * 1000 : Number.NaN;
      return `| ${d.batch} × ${d.concurrency} | ${d.waiting} | ${d.secs.toFixed(1)} | ${f(d.rate)} | ${f(base?.rate ?? Number.NaN)} | ${r(d.rate, base?.rate ?? 0)} | ${f(cpu(d))} | ${f(((d.counts?.cpuMs ?? Number.NaN) / d.waiting) * 1000)} | ${f(cpu(base))} | ${r(cpu(base), cpu(d))} | ${per(d.counts?.statements, batches)} | ${per(d.counts?.commits, batches)} | ${per(d.counts?.statements, d.waiting)} |`;
    })
    .join('\n');
  const best = drains.reduce((a, b) => (b.rate > a.rate ? b : a), drains[0] ?? { rate: 0 });
  const primary = drains[0];
  const primaryRatio = primary ? primary.rate / (baselines.get(primary.batch)?.rate ?? 1) : 0;
  const report = `# Benchmarks: the automation engine

Command (Postgres on loopback; the bench creates and drops its own database):

\`\`\`sh
flock /tmp/monoid-bench.lock env DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/automations.ts
# options: BENCH_RATES=200,500 BENCH_SECONDS=10 BENCH_POLL_MS=25 BENCH_EVENTS=4000
#          BENCH_DRAINS=64x1,16x4,64x4,250x2 (batch size x worker concurrency) BENCH_REST_SAMPLES=30
#          AUTOMATION_WORKER_CONCURRENCY=1 AUTOMATION_BATCH_SIZE=64 (the latency runs; the defaults)
\`\`\`

Machine: ${os.cpus().length} CPU (${os.cpus()[0]?.model ?? 'unknown'}), load average ${load} (\`uptime\`, at the end of
the throughput runs; shared with other work while measured); Node ${process.version}; ${new Date().toISOString().slice(0, 16)}Z.
Every process (load generator, server, workers, Postgres) runs on this machine, so read the
figures as ratios to the baseline measured in the same run.

## 1. Webhook delivered → task visible through \`GET /api/v1/tasks\` (API key)

Signed Linear \`Issue\` creates sent at a fixed rate to one server process running the API,
the webhook route and the in-process worker (NOTIFY wake-up; batch ${env.AUTOMATION_BATCH_SIZE}, concurrency ${env.AUTOMATION_WORKER_CONCURRENCY}).
Each task is detected by polling the API (newest 100 tasks) every ${POLL_MS} ms, which adds up to
~${POLL_MS} ms + one request. Baseline: the webhook's own acknowledgement (200 after the inbox row
is committed).

| rate | baseline: ack p50 / p99 | visible p50 / p99 | ratio p50 / p99 | tasks seen |
|---|---:|---:|---:|---:|
${rows}

Targets: p99 < 300 ms at 200/s — ${verdict(p99At(200) < 300)}; p99 < 1 s at 500/s — ${verdict(p99At(500) < 1000)}.

A single delivery at rest (${rest.length} deliveries, one at a time, 250 ms apart; the task polled every 5 ms):
visible p50 **${f(restP50)} ms**, p90 ${f(quantile(rest, 0.9))} ms, max ${f(rest[rest.length - 1] ?? Number.NaN)} ms —
target p50 < 50 ms ${verdict(restP50 < 50)}.

## 2. Sustained processing rate, one worker process, against bare SQL

${EVENTS} events waiting in the inbox (delivered through the webhook route), drained by **one**
worker process (the app with its worker) per row: batch size × batches in flight. Baseline in
the same run: **bare SQL** from one connection, no engine logic, writing the same rows for the
same events in the same batch size (claim; task, external link, external item, run; inbox row
processed; one transaction per batch: 8 statements per batch). Statements and commits are
counted at the worker process's driver (every statement, in or out of a transaction: the
claim, the per-batch reads, the batch transaction); "per batch" divides by the batch
transactions (BEGINs). "Machine CPU" is the CPU time the whole machine spent busy during the
drain (/proc/stat, both cores: the worker, Postgres, the bench's polling), per 1,000 events,
and the worker process's own share (its CPU from ready to stop, idle after the drain included);
"CPU ratio" is bare SQL's over the engine's: on this CPU-bound machine it moves less with the
neighbours' load than the rates do.

| batch × in flight | events | seconds | events/s | bare SQL events/s | ratio | machine CPU ms / 1,000 events | of which the worker process | bare SQL CPU ms / 1,000 events | CPU ratio | statements / batch | commits / batch | statements / event |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${drainRows}

Targets: ≥ 2,000 events/s with one worker process — ${verdict(best.rate >= 2000)} (best ${f(best.rate)});
ratio to bare SQL ≥ 0.5 — ${verdict(primaryRatio >= 0.5)} (${primaryRatio.toFixed(2)} for ${primary?.batch} × ${primary?.concurrency}).

Integrity after the run: ${tasks} tasks for ${expected} deliveries acknowledged (bare-SQL rows
included), ${runs} successful runs, ${dead} dead-lettered events (${tasks === expected ? 'nothing lost, nothing doubled' : 'MISMATCH'}).

## Reading the figures

- **Statements per batch** (Linear issue creates, one workspace, no rules), independent of the
  batch size: outside the transaction the claim and the per-batch reads (the connection, then
  the team links and the rules per event type at once on two pool clients), each
  autocommitted; in the transaction BEGIN, the entity advisory locks (which also set the sync
  origin), the runs already succeeded, the external items (and, for updates, the tasks and
  pending two-way changes) read once, the container read with the acting user's live
  memberships in the same statement, then **one statement for every write** (tasks, links,
  external items, runs, inbox rows: data-modifying CTEs, \`src/db/one-statement.ts\`), COMMIT:
  11 per batch (the process's other pollers add ~0.3), so "≤ 10 statements per batch + O(1)
  per event" is missed by one (nothing grows per event: under 0.2 statements per event at
  batch 64), and "≤ 1 commit per batch" is met for the batch's transaction ("commits / batch"
  counts explicit COMMITs; the claim and the three per-batch reads are single-statement
  autocommits besides). It was 18–20 on 2026-12-01 and ~15 at the start of 2026-12-02.
- **What stands between the engine and the bare-SQL rate** (\`BENCH_CPU_PROF=<dir>\`, 64 × 1,
  4,000 events; self time of the worker process's main thread between its first and last
  batch, summed per function). Before (2026-12-01 21:37Z, 835–995 events/s, drain 4.5 s):
  idle 46.9 %, drizzle \`is\` (entity checks while building the multi-row inserts) 12.5 %,
  \`writev\` (node-postgres socket writes, one per statement) 11.3 %, GC 5.5 %, drizzle
  \`sql.js\` chunk walk 3.3 %, \`applyBatch\` (Linear) 1.6 %, drizzle
  \`buildQueryFromSourceParams\` 1.6 %, drizzle \`prepareTyping\` 0.9 %, the bench's statement
  counter 0.7 %, drizzle insert builder 0.5 % (drizzle all told ~19 %: \`values (...)\` has one
  parameter and several type checks per row and column, defaults included). The batch's
  inserts (tasks, links, external items, runs) now send their rows as one JSON parameter
  (\`src/db/json-rows.ts\`: \`insert ... select ... from json_populate_recordset\`). After
  (21:50Z, 1,229–1,351 events/s, drain 3.1 s): idle 52.9 %, \`writev\` 8.9 %, GC 3.8 %,
  \`applyBatch\` 2.8 %, \`jsonRowsSelect\` 2.2 %, drizzle \`is\` 2.2 %, drizzle
  \`buildQueryFromSourceParams\` 1.2 %, microtasks 1.1 %, drizzle \`sql.js\` 0.9 %, (program)
  0.8 %. The worker now waits for Postgres more than half the time: timed at the driver, the
  batch transaction's ~15 statements take ~26 ms per batch of 64 (the external items read
  FOR UPDATE, the task insert and the runs upsert ~3–4 ms each), and the claim, the per-batch
  reads and the JavaScript around them ~21 ms more; the bare-SQL loop spends ~15–20 ms per
  batch in all. What is left is round trips (~18 statements against 8) and Postgres' own
  CPU on a 2-core machine shared with the load generator: the bare-SQL rate itself moved
  between 3.1 k and 4.8 k events/s between runs minutes apart. Since (22:14Z, 1,236 events/s
  at 64 × 1, ratio 0.38; 2,165 at 250 × 2; ~15 statements per batch instead of ~18): the
  sync-origin \`set_config\` rides on the entity-lock statement and the inbox rows'
  \`processed\` update on the runs upsert (a CTE). The "runs already succeeded" read stays its
  own statement after the locks (read before them, a replay could apply twice). Since (2026-12-02): after a full batch the next one is claimed and prepared while the current one applies, and a wake-up wakes one sleeping loop; measured A/B against the previous main at 04:16Z (load 0.0-3.9): 64 x 1 1,105-1,261 events/s against 965-1,210, within the noise: the worker process and Postgres share two cores, so overlapping waits does not add CPU. Since (2026-12-02 07:00–07:45Z): the batch's writes in one statement, then with the runs' statement, and the acting user's memberships read with the container (15.3 → 11.3 statements per batch); A/B against 712d836, alternated (drain only, 06:52Z, load 2.0–4.3): 64 × 1 1,432–1,438 events/s against 1,140–1,161, 250 × 2 1,982–2,017 against 1,787–1,790; at 07:17–07:31Z (load 1.4–4.8) within the noise. The machine is CPU-bound during a drain (vmstat: 3–7 % idle on two cores), so what is left is CPU per batch on both sides: ~0.5 ms of \`writev\` per statement in the worker, and Postgres' own parse/plan/execute. Not done yet: the three per-batch reads before the transaction in one query (they span three modules), the runs-already-succeeded read folded into the external items read.
- **A single delivery at rest** (timed inside the worker, 15 deliveries, the bench polling the
  API of the same process every 5 ms): the claim 7–27 ms, the reads before the transaction
  3–14 ms, the transaction 9–35 ms; the wake-up itself is immediate (< 2 ms after the
  webhook's commit). Each step is a few round trips, slowed by the API requests of the
  poller sharing the process's event loop and the CPUs.
- **Batch size and worker concurrency** (the trade-off): a larger batch divides the fixed
  fixed statements by more events but holds the entity locks and row locks longer and makes a
  failing event's split costlier (log2(batch) extra transactions); more batches in flight
  overlap round trips when Postgres has idle CPU, and compete with each other (and with the
  API and the webhook route of the same process) when it has none, which on two cores is
  always: in the table above 64 × 4 costs about twice the machine CPU per event of 64 × 1.
  Default since 2026-12-02 **64 × 1** (was 32 × 4): at 200 deliveries/s, 2026-12-02 07:45Z,
  load 1–2, the same build: 32 × 4 visible p50 175 / p99 2,282 ms (ack p99 2,022 ms, 1,668 of
  2,000 tasks seen in time), 64 × 8 233 / 1,832 ms, 64 × 2 173 / 1,564 ms, 32 × 1 90 / 1,027
  ms, 64 × 1 76–168 / 648–1,379 ms, 128 × 1 90 / 884 ms; at 500/s 32 × 4 p99 9.1 s against
  1.7–2.3 s for 64 × 1 and 128 × 1. The one loop still claims the next batch while the
  current one applies; a single delivery still goes alone, at once (NOTIFY), and bursts fill
  batches.
`;
  console.log(report);
  if (process.env.BENCH_NO_WRITE !== '1') {
    writeFileSync('docs/benchmarks-automations.md', report);
    // docs/ is checked by biome (`npm run lint`): pad the tables as it wants them.
    execFileSync(
      'node_modules/.bin/biome',
      ['format', '--write', 'docs/benchmarks-automations.md'],
      {
        stdio: 'ignore',
      },
    );
  }
}

await main();
process.exit(0);
