import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearBackfills } from '../../src/db/schema.ts';
import type { FakeLinearCall } from '../helpers/fakes/linear-fake.ts';
import { cursorPage } from './fixtures.ts';
import { type Harness, startHarness } from './harness.ts';

const ISSUES = 320;
const PROJECTS = 3;
const PAGE = 50;

describe('Linear backfill on link', () => {
  let h: Harness;
  const issueCalls = () => h.linear.callsOf('MonoidBackfillIssues');
  let failOnCall: number | null = null;

  beforeAll(async () => {
    h = await startHarness({ env: { AUTOMATION_BACKFILL_PAGE_SIZE: String(PAGE) } });
    const team = h.linear.teams[0]!;
    const projects = Array.from({ length: PROJECTS }, (_, i) => ({
      id: `prj-${i}`,
      name: `Project ${i}`,
      description: null,
      state: i === 0 ? 'completed' : 'started',
      url: `https://linear.app/acme/project/${i}`,
      targetDate: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-02T00:00:00.000Z',
      archivedAt: null,
    }));
    const types = ['triage', 'backlog', 'unstarted', 'started', 'completed', 'canceled'];
    const issues = Array.from({ length: ISSUES }, (_, i) => ({
      id: `iss-${i}`,
      identifier: `ENG-${i}`,
      title: `Issue ${i}`,
      description: `Body ${i}`,
      priority: 0,
      dueDate: null,
      url: `https://linear.app/acme/issue/ENG-${i}`,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-03T00:00:00.000Z',
      archivedAt: i % 50 === 0 ? '2026-02-01T00:00:00.000Z' : null,
      state: { id: `st-${i % 6}`, name: types[i % 6], type: types[i % 6] },
      team: { id: team.id, key: team.key, name: team.name },
      assignee: null,
      labels: { nodes: [] },
      project: i % 10 === 0 ? { id: `prj-${i % PROJECTS}`, name: 'P' } : null,
    }));
    h.linear.handle('MonoidBackfillProjects', (variables) => {
      expect(variables.teamId).toBe(team.id);
      return { team: { projects: cursorPage(projects, variables) } };
    });
    h.linear.handle(
      'MonoidBackfillIssues',
      (variables: Record<string, unknown>, call: FakeLinearCall) => {
        const n = h.linear.calls.filter((c) => c.operation === 'MonoidBackfillIssues').length;
        expect(call.token).toBe('lin_api_automation_test_key');
        if (failOnCall === n) {
          failOnCall = null;
          throw new Error('Linear is having a bad day');
        }
        return { issues: cursorPage(issues, variables) };
      },
    );
  });
  afterAll(async () => h.close());

  const backfillRow = async () => {
    const [row] = await h.t.app.database.db
      .select()
      .from(linearBackfills)
      .where(eq(linearBackfills.containerId, h.containerId));
    return row!;
  };
  const taskCount = async () => (await h.tasks(`?containerId=${h.containerId}&limit=500`)).length;

  it('pages through the team, survives a failure and a crash, and fills the container exactly once', async () => {
    const runner = h.t.app.providers.linear.backfill;
    // First run: projects, then 2 pages of issues, then the process "stops" (paused).
    expect(await runner.runOnce({ maxPages: 3 })).toBe(true);
    let row = await backfillRow();
    expect(row).toMatchObject({ status: 'pending', phase: 'issues', cursor: 'c100', items: 103 });
    expect(await taskCount()).toBe(100);

    // Second run: a provider error on its second page → recorded, retried later.
    failOnCall = issueCalls().length + 2;
    expect(await runner.runOnce()).toBe(true);
    row = await backfillRow();
    expect(row).toMatchObject({ status: 'pending', cursor: 'c150', attempts: 2 });
    expect(row.lastError).toMatch(/bad day/);
    expect(await taskCount()).toBe(150);

    // A process dies mid-page: claimed, lease held, nothing committed for that page.
    await h.t.app.database.db
      .update(linearBackfills)
      .set({
        status: 'running',
        lockedBy: 'dead-process',
        lockedUntil: sql`now() - interval '1 second'`,
      })
      .where(eq(linearBackfills.id, row.id));
    const before = issueCalls().length;
    expect(await runner.runOnce()).toBe(true);
    // It resumed at the committed cursor, not from the start.
    expect(issueCalls()[before]?.variables.after).toBe('c150');
    row = await backfillRow();
    expect(row).toMatchObject({ status: 'done', phase: 'issues', items: ISSUES + PROJECTS });
    expect(row.finishedAt).not.toBeNull();

    const tasks = await h.tasks(`?containerId=${h.containerId}&limit=500`);
    expect(tasks).toHaveLength(ISSUES);
    expect(
      new Set(tasks.map((t) => (t.externalLinks as Array<{ externalId: string }>)[0]?.externalId))
        .size,
    ).toBe(ISSUES);
    const byId = new Map(
      tasks.map((t) => [(t.externalLinks as Array<{ externalId: string }>)[0]?.externalId, t]),
    );
    expect(byId.get('iss-4')?.bucket).toBe('done');
    expect(byId.get('iss-5')?.bucket).toBe('cancelled');
    expect(byId.get('iss-0')?.bucket).toBe('new');
    expect(byId.get('iss-10')?.projectId).toEqual(expect.any(String));
    const projects = await h.t.app.inject({
      method: 'GET',
      url: `/api/v1/projects?containerId=${h.containerId}`,
      headers: h.auth,
    });
    expect(projects.json().data).toHaveLength(PROJECTS);

    // Nothing left to do; running again changes nothing.
    expect(await runner.runOnce()).toBe(false);
    expect(await taskCount()).toBe(ISSUES);
  });

  it('shows its progress in settings', async () => {
    const res = await h.t.app.inject({
      method: 'GET',
      url: '/api/settings/automations/backfills',
      headers: h.session(),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      expect.objectContaining({
        containerId: h.containerId,
        status: 'done',
        items: ISSUES + PROJECTS,
      }),
    ]);
  });

  it('unlinking stops the sync and keeps the items', async () => {
    await h.t.app.providers.linear.connect.unlinkContainer({
      workspace: { organisationId: null, userId: h.userId },
      containerId: h.containerId,
    });
    expect(await taskCount()).toBe(ISSUES);
    expect(await backfillRow()).toBeUndefined();
  });
});
