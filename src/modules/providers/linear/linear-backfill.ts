import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { LinearClient } from '@linear/sdk';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../../db/database.ts';
import type { ItemStore } from '../../automations/automation.effects.ts';
import { lockEntities } from '../../automations/automation.processor.ts';
import { PermanentError } from '../../inbox/inbox.errors.ts';
import { backoffDelay } from '../../inbox/inbox.worker.ts';
import {
  BudgetExhausted,
  lifecycleFailure,
  ReauthorizationRequired,
} from '../../integrations/connection-errors.ts';
import { findConnectionOwner } from '../../integrations/integrations.repository.ts';
import { workspaceOfRow } from '../../workspaces/workspace.context.ts';
import type { LinearBackfillRow } from './linear.table.ts';
import {
  claimBackfill,
  ensureBackfillsForLinks,
  failBackfill,
  findTeamLinkById,
  finishBackfill,
  releaseBackfill,
  saveBackfillProgress,
} from './linear-backfill.repository.ts';
import { linearBudgetOf } from './linear-call-path.ts';
import { normalizeLinearEvent } from './linear-event.ts';
import { LINEAR_MAX_PAGE_SIZE, nextLinearPageSize } from './linear-paging.ts';
import { planLinearSync } from './linear-sync.mapping.ts';
import { applyLinearSyncBatch } from './linear-sync-batch.ts';

/**
 * Backfill on link: every past and active issue and project of the linked team, paged
 * through `@linear/sdk` (raw GraphQL with exactly the fields the sync maps, so one request
 * per page, no lazy per-issue fetches). Each page's items and the cursor of the next page
 * commit in one transaction, so a crash resumes at the first page not committed, and items
 * go through the same sync code as webhooks (versions: a newer webhook wins).
 */
/** The issue fields the sync maps (backfill pages and the two-way sync's answers). */
export const BACKFILL_ISSUE_FIELDS = `id identifier title description priority dueDate url createdAt updatedAt archivedAt
      state { id name type }
      team { id key name }
      assignee { id name email }
      labels { nodes { id name } }
      project { id name }`;

export const BACKFILL_ISSUES_QUERY = `query MonoidBackfillIssues($teamId: ID!, $first: Int!, $after: String) {
  issues(first: $first, after: $after, includeArchived: true, filter: { team: { id: { eq: $teamId } } }) {
    nodes {
      ${BACKFILL_ISSUE_FIELDS}
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const BACKFILL_PROJECTS_QUERY = `query MonoidBackfillProjects($teamId: String!, $first: Int!, $after: String) {
  team(id: $teamId) {
    projects(first: $first, after: $after, includeArchived: true) {
      nodes { id name description state url targetDate createdAt updatedAt archivedAt }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

interface Page {
  nodes: Array<Record<string, unknown>>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export interface BackfillDeps {
  db: Db;
  store: ItemStore;
  linearClient: (connectionId: string) => Promise<LinearClient | undefined>;
  log: FastifyBaseLogger;
  /** The first page's size; later pages follow the complexity budget (up to 250). */
  pageSize: number;
  /** Complexity points kept in reserve (`LINEAR_RATE_LIMIT_LOW_COMPLEXITY`). */
  lowComplexity: number;
  leaseMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

async function fetchPage(
  client: LinearClient,
  phase: 'projects' | 'issues',
  variables: { teamId: string; first: number; after: string | null },
): Promise<Page> {
  if (phase === 'issues') {
    const res = await client.client.rawRequest<{ issues: Page }, typeof variables>(
      BACKFILL_ISSUES_QUERY,
      variables,
    );
    if (!res.data) throw new Error('Linear answered no data');
    return res.data.issues;
  }
  const res = await client.client.rawRequest<{ team: { projects: Page } | null }, typeof variables>(
    BACKFILL_PROJECTS_QUERY,
    variables,
  );
  if (!res.data?.team) throw new PermanentError('the linked team no longer exists at Linear');
  return res.data.team.projects;
}

/** A backfilled node in the shape of a webhook payload, so it normalizes like one. */
export function asPayload(
  phase: 'projects' | 'issues',
  node: Record<string, unknown>,
  teamId: string,
) {
  const data =
    phase === 'issues'
      ? {
          ...node,
          teamId,
          labels: (node.labels as { nodes?: unknown[] } | null)?.nodes ?? [],
        }
      : { ...node, teamIds: [teamId] };
  return {
    action: 'update',
    type: phase === 'issues' ? 'Issue' : 'Project',
    data,
    createdAt: new Date().toISOString(),
    webhookTimestamp: Date.now(),
  };
}

export class LinearBackfillRunner {
  readonly name = 'linear-backfill';

  constructor(
    private readonly deps: BackfillDeps,
    private readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
  ) {}

  /**
   * Starts backfills for new links, claims one due backfill and runs it to the end (or to a
   * failure, recorded with a backoff). Returns whether there was one to run.
   */
  async runOnce(options: { maxPages?: number } = {}): Promise<boolean> {
    await ensureBackfillsForLinks(this.deps.db);
    const backfill = await claimBackfill(this.deps.db, {
      workerId: this.workerId,
      leaseMs: this.deps.leaseMs,
    });
    if (!backfill) return false;
    try {
      await this.#run(backfill, options.maxPages ?? Number.POSITIVE_INFINITY);
    } catch (err) {
      // Not failures: wait for the rate-limit reset, or for an admin to reconnect. The
      // backfill resumes at the page it stopped at, and the claim is not counted.
      const lifecycle = lifecycleFailure(err);
      if (lifecycle instanceof BudgetExhausted || lifecycle instanceof ReauthorizationRequired) {
        this.deps.log.info(
          { backfillId: backfill.id, reason: lifecycle.name },
          'linear backfill paused',
        );
        await releaseBackfill(this.deps.db, backfill.id, {
          ...(lifecycle instanceof BudgetExhausted ? { at: new Date(lifecycle.retryAt) } : {}),
          refundAttempt: true,
        });
        return true;
      }
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const dead = err instanceof PermanentError || backfill.attempts >= this.deps.maxAttempts;
      this.deps.log.warn({ backfillId: backfill.id, error, dead }, 'linear backfill failed');
      await failBackfill(this.deps.db, {
        id: backfill.id,
        error,
        dead,
        delayMs: backoffDelay(backfill.attempts, {
          baseMs: this.deps.retryBaseMs,
          maxMs: this.deps.retryMaxMs,
        }),
      });
    }
    return true;
  }

  async #run(backfill: LinearBackfillRow, maxPages: number): Promise<void> {
    const link = await findTeamLinkById(this.deps.db, backfill.linkId);
    const connection = await findConnectionOwner(this.deps.db, backfill.connectionId);
    if (!link || !connection) throw new PermanentError('the link or the connection is gone');
    const client = await this.deps.linearClient(backfill.connectionId);
    if (!client) throw new PermanentError('the Linear connection is gone');
    const workspace = workspaceOfRow(connection);
    const actingUserId = link.createdByUserId ?? connection.connectedByUserId ?? connection.userId;
    if (!actingUserId) throw new PermanentError('no user to create items as');

    const fetchAfter = (
      at: { phase: 'projects' | 'issues'; cursor: string | null },
      first: number,
    ) =>
      started(
        fetchPage(client, at.phase, { teamId: backfill.teamId, first, after: at.cursor }).then(
          (page) => ({ page, first }),
        ),
      );
    let at = { phase: backfill.phase, cursor: backfill.cursor };
    let fetching = fetchAfter(at, this.deps.pageSize);
    for (let pages = 0; pages < maxPages; pages++) {
      const { page, first } = await fetching;
      const next = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      const following = {
        phase: next === null && at.phase === 'projects' ? ('issues' as const) : at.phase,
        cursor: next,
      };
      const done = next === null && at.phase === 'issues';
      // The next page is on its way while this one is applied: with Linear's latency per
      // page, the import is then paced by the slower of the two, not by their sum. Its size
      // is as large as the complexity budget allows (this page's answer says what it cost).
      if (!done && pages + 1 < maxPages)
        fetching = fetchAfter(
          following,
          nextLinearPageSize({
            snapshot: linearBudgetOf(client),
            lastPageSize: first,
            initial: this.deps.pageSize,
            max: LINEAR_MAX_PAGE_SIZE,
            lowComplexity: this.deps.lowComplexity,
          }),
        );
      await this.#applyPage({
        backfill,
        workspace,
        actingUserId,
        phase: at.phase,
        page,
        following,
        done,
      });
      if (done) return;
      at = following;
    }
    // Stopped early (maxPages): hand the backfill back, due now, for anyone to resume.
    await releaseBackfill(this.deps.db, backfill.id);
  }

  /**
   * One page's items and the position after it commit together, so a crash resumes at the
   * first page not committed and re-applies nothing twice.
   */
  async #applyPage(input: {
    backfill: LinearBackfillRow;
    workspace: ReturnType<typeof workspaceOfRow>;
    actingUserId: string;
    phase: 'projects' | 'issues';
    page: Page;
    following: { phase: 'projects' | 'issues'; cursor: string | null };
    done: boolean;
  }): Promise<void> {
    const { backfill, workspace, actingUserId, phase, page } = input;
    const events = page.nodes.flatMap((node) => {
      const event = normalizeLinearEvent(asPayload(phase, node, backfill.teamId));
      return event ? [event] : [];
    });
    await this.deps.db.transaction(async (tx) => {
      // The page set-based, under the locks the webhook worker takes for the same entities.
      await lockEntities(
        tx,
        events.map((event) => `linear:${event.entityId}`),
      );
      await applyLinearSyncBatch(tx, {
        store: this.deps.store,
        items: events.map((event) => ({
          plan: planLinearSync(event),
          ref: event.ref,
          versionAt: event.entityVersionAt ?? 0,
          containerId: backfill.containerId,
          workspace,
          actingUserId,
        })),
      });
      await saveBackfillProgress(tx, {
        id: backfill.id,
        phase: input.following.phase,
        cursor: input.following.cursor,
        items: page.nodes.length,
        leaseMs: this.deps.leaseMs,
      });
      if (input.done) await finishBackfill(tx, backfill.id);
    });
  }
}

/**
 * A request started now and awaited later (or never, when applying the page before it
 * fails): its rejection is handled where it is awaited, not reported as unhandled meanwhile.
 */
function started<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
