import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signLinearBody } from '../../src/modules/providers/linear/linear-signature.ts';
import { linearIssuePayload } from '../automations/fixtures.ts';
import { type Harness, startProcessHarness } from '../automations/harness.ts';
import { testPostgresUrl } from '../helpers/database.ts';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.ts';

/**
 * kill -9 during a burst of signed webhooks: every delivery the server acknowledged is
 * processed after a restart, none twice; the provider's retries of the others then land once.
 * Twenty senders at once: deliveries share commits (group commit), and a 200 must still mean
 * stored.
 */
describe.runIf(testPostgresUrl())('a server killed with SIGKILL mid-burst', () => {
  let close: (() => Promise<void>) | undefined;
  let h: Harness;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    ({ h, env, close } = await startProcessHarness({
      AUTOMATION_POLL_MS: '200',
      // A short lease: events claimed by the killed process are taken over quickly.
      AUTOMATION_LEASE_MS: '2000',
    }));
  }, 120_000);

  afterAll(async () => {
    server?.kill('SIGKILL');
    await close?.();
  }, 60_000);

  it('loses nothing it acknowledged and does nothing twice', async () => {
    server = await startServerProcess(env);
    const issues = Array.from({ length: 120 }, (_, i) => ({
      issueId: randomUUID(),
      deliveryId: randomUUID(),
      title: `Burst ${i}`,
    }));
    const deliver = (baseUrl: string, issue: (typeof issues)[number]) => {
      const payload = linearIssuePayload({
        id: issue.issueId,
        teamId: h.teamId,
        title: issue.title,
      });
      const body = JSON.stringify({
        ...payload,
        webhookId: h.webhookId,
        webhookTimestamp: Date.now(),
      });
      return fetch(`${baseUrl}/webhooks/linear`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'linear-delivery': issue.deliveryId,
          'linear-event': 'Issue',
          'linear-signature': signLinearBody(body, h.secret),
        },
        body,
      }).then(
        (r) => r.status,
        () => 0,
      );
    };

    const acknowledged = new Set<string>();
    const first = server;
    let sent = 0;
    const queue = [...issues];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let issue = queue.shift(); issue; issue = queue.shift()) {
          sent++;
          if (sent === 70) first.kill('SIGKILL');
          if ((await deliver(first.baseUrl, issue)) === 200) acknowledged.add(issue.issueId);
        }
      }),
    );
    await first.exited;
    expect(acknowledged.size).toBeGreaterThan(10);
    expect(acknowledged.size).toBeLessThan(issues.length);

    server = await startServerProcess(env);
    const linkedIds = async () => {
      const tasks = await h.tasks(`?containerId=${h.containerId}&limit=500`);
      return tasks.flatMap((t) =>
        ((t.externalLinks as Array<{ externalId: string }>) ?? []).map((l) => l.externalId),
      );
    };
    const waitFor = async (want: Set<string>) => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const ids = new Set(await linkedIds());
        if ([...want].every((id) => ids.has(id))) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await waitFor(acknowledged);
    let ids = await linkedIds();
    for (const id of acknowledged) expect(ids.filter((x) => x === id)).toHaveLength(1);
    expect(new Set(ids).size).toBe(ids.length);

    // Linear retries what was not acknowledged (and, harmlessly, some that were).
    const restarted = server;
    for (const issue of issues) expect(await deliver(restarted.baseUrl, issue)).toBe(200);
    await waitFor(new Set(issues.map((i) => i.issueId)));
    await new Promise((r) => setTimeout(r, 500));
    ids = await linkedIds();
    expect(ids.sort()).toEqual(issues.map((i) => i.issueId).sort());
  }, 120_000);
});
