import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearBackfills } from '../../src/db/schema.ts';
import { backfillIssueNode, cursorPage } from '../automations/fixtures.ts';
import { type Harness, startProcessHarness } from '../automations/harness.ts';
import { testPostgresUrl } from '../helpers/database.ts';
import { eventually } from '../helpers/eventually.ts';
import type { FakeLinear } from '../helpers/fakes/linear-fake.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

const ISSUES = 300;
const PAGE = 50;

/**
 * kill -9 while a backfill page is being applied: the page's items and its cursor commit
 * together, so nothing of it is left; after a restart the backfill resumes at that page and
 * every issue ends up exactly once. The next page is fetched while the current one is
 * applied, so the request for page 4 arriving at the fake means page 3's apply has begun:
 * the server is killed at that moment.
 */
describe.runIf(testPostgresUrl())('a server killed with SIGKILL mid-backfill', () => {
  let close: (() => Promise<void>) | undefined;
  let linear: FakeLinear;
  let h: Harness;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let onFourthPage: (() => void) | undefined;

  beforeAll(async () => {
    ({ linear, h, env, close } = await startProcessHarness({
      AUTOMATION_POLL_MS: '200',
      AUTOMATION_BACKFILL_PAGE_SIZE: String(PAGE),
      // A short lease: the backfill claimed by the killed process is taken over quickly.
      AUTOMATION_LEASE_MS: '2000',
    }));
    const team = linear.teams[0]!;
    const issues = Array.from({ length: ISSUES }, (_, i) => backfillIssueNode(i, team));
    linear.handle('MonoidBackfillProjects', () => ({
      team: { projects: cursorPage([], { first: PAGE }) },
    }));
    linear.handle('MonoidBackfillIssues', (variables) => {
      if (variables.after === `c${3 * PAGE}`) onFourthPage?.();
      return { issues: cursorPage(issues, variables) };
    });
  }, 120_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await close?.();
  }, 60_000);

  const backfill = async () => {
    const [row] = await h.t.app.database.db
      .select()
      .from(linearBackfills)
      .where(eq(linearBackfills.containerId, h.containerId));
    return row;
  };
  const linkedIds = async () => {
    const ids: string[] = [];
    for (let offset = 0; ; offset += 500) {
      const tasks = await h.tasks(`?containerId=${h.containerId}&limit=500&offset=${offset}`);
      for (const t of tasks)
        for (const l of (t.externalLinks as Array<{ externalId: string }>) ?? [])
          ids.push(l.externalId);
      if (tasks.length < 500) return ids;
    }
  };

  it('leaves no half page, resumes at the page it was applying, and imports every issue once', async () => {
    const killed = new Promise<void>((resolve) => {
      onFourthPage = () => {
        onFourthPage = undefined;
        first.kill('SIGKILL');
        resolve();
      };
    });
    const first = await startServerProcess(env);
    server = first;
    await killed;
    await first.exited;

    // Page 3 was being applied: neither its items nor its cursor are there.
    const stopped = await backfill();
    expect(stopped).toMatchObject({ status: 'running', phase: 'issues', cursor: `c${2 * PAGE}` });
    expect(await linkedIds()).toHaveLength(2 * PAGE);

    server = await startServerProcess(env);
    expect(await eventually(async () => (await backfill())?.status === 'done', 60_000, 250)).toBe(
      true,
    );
    const ids = await linkedIds();
    expect(ids).toHaveLength(ISSUES);
    expect(new Set(ids).size).toBe(ISSUES);
    expect(await backfill()).toMatchObject({ items: ISSUES, cursor: null });
    const resumedAt = linear
      .callsOf('MonoidBackfillIssues')
      .map((c) => c.variables.after)
      .filter((after) => after === `c${2 * PAGE}`);
    // Fetched once by the killed process and once more by the one that resumed.
    expect(resumedAt).toHaveLength(2);
  }, 180_000);
});
