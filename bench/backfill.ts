/**
 * A team's first import: the Linear backfill of a newly linked container, against the loopback
 * fake Linear that adds a fixed latency to every page (100 ms by default), and a real
 * database. Reports the import time, pages, items/s, and two same-run baselines:
 * - fetch only: the same pages (same sizes, same latency) read one after another and
 *   discarded: what paging alone costs;
 * - apply only: the same import of the same number of issues (another team, another
 *   container) from a fake answering at once: what applying alone costs.
 * Without overlap the import would take about their sum; with it, about the larger one.
 * Every issue must exist exactly once at the end (checked through the public API's task list).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test flock /tmp/monoid-bench.lock npx tsx bench/backfill.ts
 *
 * Options (env): BENCH_ISSUES=10000  BENCH_PAGE_LATENCY_MS=100
 */
import { loadavg } from 'node:os';
import { count, eq } from 'drizzle-orm';
import pg from 'pg';
import { externalLinks, linearBackfills } from '../src/db/schema.ts';
import { BACKFILL_ISSUES_QUERY } from '../src/modules/providers/linear/linear-backfill.ts';
import { backfillIssueNode, cursorPage } from '../test/automations/fixtures.ts';
import { startHarness } from '../test/automations/harness.ts';

const ISSUES = Number(process.env.BENCH_ISSUES ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_PAGE_LATENCY_MS ?? 100);
const TARGET_S = 30;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Every statement sent by any pooled client (inside transactions too), to report statements
// per issue: what the import costs apart from Linear's latency.
let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

async function main(): Promise<void> {
  const h = await startHarness({ link: false });
  const [team, otherTeam] = h.linear.teams;
  if (!team || !otherTeam) throw new Error('the fake has two teams');
  const types = ['triage', 'backlog', 'unstarted', 'started', 'completed', 'canceled'];
  const issuesOf = (t: { id: string; key: string; name: string }) =>
    Array.from({ length: ISSUES }, (_, i) =>
      backfillIssueNode(i, t, { idPrefix: `${t.key}-`, stateType: types[i % types.length] }),
    );
  const issuesByTeam = new Map([team, otherTeam].map((t) => [t.id, issuesOf(t)]));
  let latencyMs = LATENCY_MS;
  const pageOf = (variables: Record<string, unknown>) =>
    cursorPage(issuesByTeam.get(String(variables.teamId)) ?? [], variables);
  h.linear.responseHeaders['x-complexity'] = '1000';
  h.linear.responseHeaders['x-ratelimit-complexity-remaining'] = '2000000';
  h.linear.handle('MonoidBackfillProjects', async () => {
    await sleep(latencyMs);
    return {
      team: {
        projects: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } },
      },
    };
  });
  h.linear.handle('MonoidBackfillIssues', async (variables) => {
    await sleep(latencyMs);
    return { issues: pageOf(variables) };
  });

  const db = h.t.app.database.db;
  const linkedCount = async () =>
    Number(
      (
        await db
          .select({ n: count() })
          .from(externalLinks)
          .where(eq(externalLinks.provider, 'linear'))
      )[0]?.n ?? 0,
    );
  const link = async (containerId: string, teamId: string) =>
    h.t.app.providers.linear.connect.linkContainer({
      workspace: { organisationId: null, userId: h.userId },
      userId: h.userId,
      containerId,
      teamId,
    });

  // Baseline first (it also warms up the process): the same import into another container
  // from a fake answering without latency.
  latencyMs = 0;
  const applyContainer = await h.t.app.inject({
    method: 'POST',
    url: '/api/v1/containers',
    headers: h.auth,
    payload: { name: 'Apply only' },
  });
  await link(applyContainer.json().data._id as string, otherTeam.id);
  const applyStarted = performance.now();
  await h.t.app.providers.linear.backfill.runOnce();
  const applySeconds = (performance.now() - applyStarted) / 1000;
  const applyOnlyLinked = await linkedCount();

  latencyMs = LATENCY_MS;
  h.linear.calls.length = 0;
  await link(h.containerId, team.id);
  const loadBefore = loadavg()[0] ?? 0;
  const started = performance.now();
  const statementsBefore = statements;
  await h.t.app.providers.linear.backfill.runOnce();
  const importSeconds = (performance.now() - started) / 1000;
  const importStatements = statements - statementsBefore;
  const loadAfter = loadavg()[0] ?? 0;
  const calls = [...h.linear.callsOf('MonoidBackfillIssues')];
  const pageSizes = calls.map((c) => Number(c.variables.first));

  const [backfill] = await db
    .select()
    .from(linearBackfills)
    .where(eq(linearBackfills.containerId, h.containerId));
  const linked = (await linkedCount()) - applyOnlyLinked;
  const tasks = new Set<string>();
  for (let offset = 0; ; offset += 500) {
    const page = await h.tasks(`?containerId=${h.containerId}&limit=500&offset=${offset}`);
    for (const t of page)
      for (const l of (t.externalLinks as Array<{ externalId: string }>) ?? [])
        tasks.add(l.externalId);
    if (page.length < 500) break;
  }

  // Baseline: the same pages, same sizes and latency, fetched one after another, not applied.
  const fetchStarted = performance.now();
  const client = await h.t.app.providers.linear.clients.forConnectionId(
    h.connectionId,
    'background',
  );
  if (!client) throw new Error('no client');
  await client.client.rawRequest('query MonoidBackfillProjects { x }', { teamId: team.id });
  for (const call of calls) await client.client.rawRequest(BACKFILL_ISSUES_QUERY, call.variables);
  const fetchSeconds = (performance.now() - fetchStarted) / 1000;
  await h.close();

  const exactlyOnce = tasks.size === ISSUES && linked === ISSUES;
  const result = {
    issues: ISSUES,
    pageLatencyMs: LATENCY_MS,
    importSeconds,
    itemsPerSecond: ISSUES / importSeconds,
    pages: calls.length,
    statementsPerIssue: importStatements / ISSUES,
    commits: calls.length + 1,
    pageSizes: [...new Set(pageSizes)],
    fetchOnlySeconds: fetchSeconds,
    applyOnlySeconds: applySeconds,
    applyOnlyLinked,
    importOverFetchOnly: importSeconds / fetchSeconds,
    importOverApplyOnly: importSeconds / applySeconds,
    importOverSum: importSeconds / (fetchSeconds + applySeconds),
    status: backfill?.status,
    items: backfill?.items,
    tasks: tasks.size,
    links: linked,
    exactlyOnce,
    // The target is for a team of 10,000 issues.
    targetMet: ISSUES >= 10_000 && importSeconds <= TARGET_S && exactlyOnce,
    loadBefore,
    loadAfter,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
