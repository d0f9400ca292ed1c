import type { Client } from '@notionhq/client';
import { pagePropertiesFor } from '../../automations/automation.write-back.ts';
import { recordOutgoingRun } from '../../automations/automations.repository.ts';
import { PermanentError, TransientError } from '../../inbox/inbox.errors.ts';
import { lifecycleFailure, ReauthorizationRequired } from '../../integrations/connection-errors.ts';
import {
  type ClaimedPush,
  type OutboxPusherDeps,
  OutboxPushRunner,
  recordFailedPush,
} from '../outbox/outbox-pusher.ts';
import { lockTaskBeforeOutbox, syncOutboxFor } from '../outbox/sync-outbox.repository.ts';
import { NOTION } from './notion.id.ts';
import { loadNotionPushContext, type NotionPushContext } from './notion-push.repository.ts';
import { classifyLifecycleFailure, classifyNotionError } from './notion-reader.ts';

const notionOutbox = syncOutboxFor(NOTION);

export interface NotionPushDeps extends OutboxPusherDeps {
  notionClient: (connectionId: string) => Promise<Client | undefined>;
}

function pushRunOf(ctx: NotionPushContext, row: ClaimedPush) {
  return {
    provider: NOTION,
    taskId: ctx.taskId,
    containerId: ctx.containerId,
    automationId: ctx.automationId,
    organisationId: ctx.organisationId,
    userId: ctx.actingUserId,
    fields: row.fields,
    attempts: row.attempts,
  };
}

/**
 * Notion write-back: claims the outbox rows of tasks made from a page by a `two_way` rule
 * (one per task, coalescing every change since the last push) and sends the properties the
 * rule's mapping gives in one `pages.update`, through the Notion call path (budgets, token
 * refresh). The page's `last_edited_time` in Notion's answer is stored as the pushed version:
 * the `page.updated` event of that write reads the page back, finds that version and is
 * skipped (neither applied nor pushed again).
 */
export class NotionPushRunner extends OutboxPushRunner<NotionPushDeps> {
  readonly name = 'notion-push';

  constructor(deps: NotionPushDeps, workerId?: string) {
    super(notionOutbox, deps, workerId);
  }

  protected async pushOne(row: ClaimedPush): Promise<void> {
    const ctx = await loadNotionPushContext(this.deps.db, row.taskId);
    const properties =
      ctx?.sync === 'two_way' ? pagePropertiesFor(ctx.writeBack, ctx, row.fields) : {};
    if (!ctx || Object.keys(properties).length === 0) {
      // Unlinked, the rule went back to one-way, or no mapped field changed: nothing to push.
      await notionOutbox.finishOutbox(this.deps.db, row);
      return;
    }
    if (!ctx.connectionId) throw new PermanentError('the workspace has no Notion connection');
    const client = await this.deps.notionClient(ctx.connectionId);
    if (!client) throw new PermanentError('the Notion connection is gone');
    const page = await client.pages.update({
      page_id: ctx.pageId,
      properties: properties as Parameters<Client['pages']['update']>[0]['properties'],
    });
    const edited = 'last_edited_time' in page ? Date.parse(page.last_edited_time) : Number.NaN;
    const versionAt = Number.isFinite(edited) ? edited : Date.now();
    await this.deps.db.transaction(async (tx) => {
      await lockTaskBeforeOutbox(tx, ctx.taskId);
      await notionOutbox.finishOutbox(tx, { ...row, answeredAt: versionAt });
      await notionOutbox.markPushedVersion(tx, {
        itemId: ctx.taskId,
        externalId: ctx.pageId,
        versionAt,
      });
      await recordOutgoingRun(tx, { ...pushRunOf(ctx, row), status: 'succeeded', error: null });
    });
  }

  protected async fail(row: ClaimedPush, err: unknown): Promise<void> {
    // 404 (page gone or not shared) and 403 (no access) never succeed: dead-lettered.
    // 429 and 5xx are transient (no sooner than Notion's Retry-After); a connection waiting
    // for reauthorization holds the row.
    const lifecycle = classifyLifecycleFailure(err);
    const classified = lifecycle ?? classifyNotionError(err) ?? err;
    const held = lifecycleFailure(err) instanceof ReauthorizationRequired;
    const ctx = await loadNotionPushContext(this.deps.db, row.taskId).catch(() => undefined);
    await recordFailedPush(notionOutbox, this.deps, {
      row,
      err: classified,
      permanent: classified instanceof PermanentError,
      held,
      retryAfterMs: classified instanceof TransientError ? classified.retryAfterMs : null,
      run: ctx ? pushRunOf(ctx, row) : undefined,
    });
  }
}
