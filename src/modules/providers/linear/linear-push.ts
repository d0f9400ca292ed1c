import {
  InvalidInputLinearError,
  type LinearClient,
  LinearError,
  LinearErrorType,
} from '@linear/sdk';
import { sql } from 'drizzle-orm';
import type { ItemStore } from '../../automations/automation.effects.ts';
import { recordOutgoingRun } from '../../automations/automations.repository.ts';
import { PermanentError } from '../../inbox/inbox.errors.ts';
import type { TaskBucket } from '../../tasks/tasks.table.ts';
import {
  type ClaimedPush,
  type OutboxPusherDeps,
  OutboxPushRunner,
  recordFailedPush,
} from '../outbox/outbox-pusher.ts';
import { LINEAR } from './linear.id.ts';
import { isLinearAuthError } from './linear-api.ts';
import { asPayload, BACKFILL_ISSUE_FIELDS } from './linear-backfill.ts';
import { normalizeLinearEvent } from './linear-event.ts';
import {
  linearOutbox,
  loadPushContext,
  lockTaskBeforeOutbox,
  type OutboxField,
  type PushContext,
} from './linear-outbox.repository.ts';
import { type LinearWorkflowState, linearStateForBucket } from './linear-state-mapping.ts';
import { planLinearSync } from './linear-sync.mapping.ts';
import { applyLinearSync } from './linear-sync.ts';

const TEAM_STATES_QUERY = `query MonoidTeamStates($teamId: String!) {
  team(id: $teamId) { states { nodes { id name type position } } }
}`;

const USER_BY_EMAIL_QUERY = `query MonoidUserByEmail($email: String!) {
  users(filter: { email: { eqIgnoreCase: $email } }) { nodes { id } }
}`;

const ISSUE_UPDATE_MUTATION = `mutation MonoidIssueUpdate($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success issue { ${BACKFILL_ISSUE_FIELDS} } }
}`;

/** Linear answers that will never succeed for this push (the issue is gone, no permission). */
const PERMANENT_LINEAR_ERRORS: ReadonlySet<string> = new Set([
  LinearErrorType.InvalidInput,
  LinearErrorType.Forbidden,
  LinearErrorType.FeatureNotAccessible,
  LinearErrorType.GraphqlError,
]);

/** The run record of a push of this task (its status and error added by the caller). */
function pushRunOf(ctx: PushContext, row: { fields: string[]; attempts: number }) {
  return {
    provider: LINEAR,
    taskId: ctx.taskId,
    containerId: ctx.containerId,
    organisationId: ctx.organisationId,
    userId: ctx.actingUserId,
    fields: row.fields,
    attempts: row.attempts,
  };
}

export interface PushDeps extends OutboxPusherDeps {
  store: ItemStore;
  linearClient: (connectionId: string) => Promise<LinearClient | undefined>;
  /** Team workflow states are read once per team and kept this long. */
  statesTtlMs?: number;
}

/**
 * The two-way sync's pusher: claims outbox rows (one per changed task, coalescing every change
 * since the last push), sends the changed fields to the issue in one `issueUpdate`, then
 * applies Linear's answer as the task's new baseline (version = the issue's `updatedAt`, also
 * stored as the pushed version so that Linear's echo webhook of this write is skipped).
 * Runs beside the inbox worker as a background job; woken by the outbox trigger's NOTIFY.
 */
export class LinearPushRunner extends OutboxPushRunner<PushDeps> {
  readonly name = 'linear-push';
  readonly #states = new Map<string, { at: number; states: LinearWorkflowState[] }>();
  readonly #users = new Map<string, string | null>();

  constructor(deps: PushDeps, workerId?: string) {
    super(linearOutbox, deps, workerId);
  }

  protected async pushOne(row: {
    taskId: string;
    fields: string[];
    revision: number;
    attempts: number;
  }): Promise<void> {
    const ctx = await loadPushContext(this.deps.db, row.taskId);
    if (ctx?.sync !== 'two_way') {
      // Unlinked, or the link went back to one-way since: nothing to push.
      await linearOutbox.finishOutbox(this.deps.db, row);
      return;
    }
    const client = await this.deps.linearClient(ctx.connectionId);
    if (!client) throw new PermanentError('the Linear connection is gone');
    const fields = row.fields as OutboxField[];
    const input = await this.#issueInput(client, ctx, fields);
    if (Object.keys(input).length === 0) {
      await linearOutbox.finishOutbox(this.deps.db, row);
      return;
    }
    const issue = await this.#issueUpdate(client, ctx.issueId, input).catch(async (err) => {
      // Linear refused the input and it named a state from the cache: the team's workflow may
      // have changed since it was read. Read the states again and retry once if that changes
      // the state sent; anything else is the push's failure.
      if (!(err instanceof InvalidInputLinearError) || input.stateId === undefined) throw err;
      this.#states.delete(ctx.teamId);
      const fresh = await this.#issueInput(client, ctx, fields);
      if (fresh.stateId === input.stateId) throw err;
      return this.#issueUpdate(client, ctx.issueId, fresh);
    });
    await this.#applyAnswer(ctx, row, issue);
  }

  async #issueUpdate(
    client: LinearClient,
    issueId: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const res = await client.client.rawRequest<
      { issueUpdate: { success: boolean; issue: Record<string, unknown> | null } },
      { id: string; input: Record<string, unknown> }
    >(ISSUE_UPDATE_MUTATION, { id: issueId, input });
    const issue = res.data?.issueUpdate.issue;
    if (!res.data?.issueUpdate.success || !issue)
      throw new PermanentError('Linear did not update the issue');
    return issue;
  }

  /** Linear's answer becomes the task's baseline (it carries concurrent Linear edits too). */
  async #applyAnswer(
    ctx: PushContext,
    row: { taskId: string; revision: number; fields: string[]; attempts: number },
    issue: Record<string, unknown>,
  ): Promise<void> {
    const event = normalizeLinearEvent(asPayload('issues', issue, ctx.teamId));
    const versionAt = event?.entityVersionAt ?? 0;
    await this.deps.db.transaction(async (tx) => {
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtextextended(${`linear:${ctx.issueId}`}, 0))`,
      );
      await lockTaskBeforeOutbox(tx, ctx.taskId);
      await linearOutbox.finishOutbox(tx, { ...row, answeredAt: versionAt });
      if (event && ctx.actingUserId)
        await applyLinearSync(
          {
            db: tx,
            store: this.deps.store,
            workspace: ctx.organisationId
              ? { organisationId: ctx.organisationId, userId: null }
              : { organisationId: null, userId: ctx.actingUserId },
            actingUserId: ctx.actingUserId,
            versionAt,
            dryRun: false,
          },
          {
            plan: planLinearSync(event),
            containerId: ctx.containerId,
            ref: event.ref,
            organisationId: ctx.organisationId,
          },
        );
      await linearOutbox.markPushedVersion(tx, {
        itemId: ctx.taskId,
        externalId: ctx.issueId,
        versionAt,
      });
      await recordOutgoingRun(tx, {
        ...pushRunOf(ctx, row),
        status: 'succeeded',
        error: null,
      });
    });
  }

  async #issueInput(
    client: LinearClient,
    ctx: PushContext,
    fields: readonly OutboxField[],
  ): Promise<Record<string, unknown>> {
    const input: Record<string, unknown> = {};
    for (const field of fields) {
      if (field === 'title') input.title = ctx.title;
      else if (field === 'notes') input.description = ctx.notes ?? '';
      else if (field === 'due_date') input.dueDate = ctx.dueDate;
      else if (field === 'bucket') {
        const state = linearStateForBucket(
          ctx.bucket as TaskBucket,
          await this.#teamStates(client, ctx.teamId),
        );
        if (state) input.stateId = state.id;
      } else if (field === 'assignee_id') {
        if (!ctx.assigneeId) input.assigneeId = null;
        else if (ctx.assigneeEmail) {
          const id = await this.#userByEmail(client, ctx.assigneeEmail);
          if (id) input.assigneeId = id;
        }
      }
    }
    return input;
  }

  async #teamStates(client: LinearClient, teamId: string): Promise<LinearWorkflowState[]> {
    const cached = this.#states.get(teamId);
    if (cached && Date.now() - cached.at < (this.deps.statesTtlMs ?? 10 * 60_000))
      return cached.states;
    const res = await client.client.rawRequest<
      { team: { states: { nodes: LinearWorkflowState[] } } | null },
      { teamId: string }
    >(TEAM_STATES_QUERY, { teamId });
    if (!res.data?.team) throw new PermanentError('the linked team no longer exists at Linear');
    const states = res.data.team.states.nodes;
    this.#states.set(teamId, { at: Date.now(), states });
    return states;
  }

  async #userByEmail(client: LinearClient, email: string): Promise<string | null> {
    const key = email.toLowerCase();
    if (this.#users.has(key)) return this.#users.get(key) ?? null;
    const res = await client.client.rawRequest<
      { users: { nodes: Array<{ id: string }> } },
      { email: string }
    >(USER_BY_EMAIL_QUERY, { email });
    const id = res.data?.users.nodes[0]?.id ?? null;
    this.#users.set(key, id);
    return id;
  }

  protected async fail(row: ClaimedPush, err: unknown): Promise<void> {
    const permanent =
      err instanceof PermanentError ||
      (err instanceof LinearError &&
        err.type !== undefined &&
        PERMANENT_LINEAR_ERRORS.has(err.type));
    const ctx = await loadPushContext(this.deps.db, row.taskId).catch(() => undefined);
    await recordFailedPush(linearOutbox, this.deps, {
      row,
      err,
      permanent,
      // A refused token holds the push until the connection is reauthorized.
      held: isLinearAuthError(err),
      run: ctx ? pushRunOf(ctx, row) : undefined,
    });
  }
}
