import type { Client } from '@notionhq/client';
import { isHTTPResponseError, RequestTimeoutError } from '@notionhq/client';
import { PermanentError, TransientError } from '../../inbox/inbox.errors.ts';
import {
  BudgetExhausted,
  ConnectionGone,
  lifecycleFailure,
  ReauthorizationRequired,
} from '../../integrations/connection-errors.ts';

/** Reads a Notion page (null when it is gone or not shared with the integration). */
export interface NotionPageReader {
  retrievePage(connectionId: string, pageId: string): Promise<unknown | null>;
}

/**
 * Reads Notion pages for the engine (Notion events are sparse: the page is read back), through
 * the Notion call path (paced per connection across all instances, tokens refreshed). A 429
 * becomes a TransientError carrying `Retry-After`, so the worker retries the event no sooner
 * than Notion asked; a connection waiting for reauthorization is a TransientError too (the
 * worker does not claim its events until it is reconnected: nothing is dead-lettered). A page
 * that is gone or not shared reads as null.
 */
export class NotionReader implements NotionPageReader {
  constructor(private readonly clientFor: (connectionId: string) => Promise<Client | undefined>) {}

  async retrievePage(connectionId: string, pageId: string): Promise<unknown | null> {
    try {
      const client = await this.clientFor(connectionId);
      if (!client) throw new PermanentError('the Notion connection no longer exists');
      return await client.pages.retrieve({ page_id: pageId });
    } catch (err) {
      if (isHTTPResponseError(err) && err.status === 404) return null;
      throw classifyLifecycleFailure(err) ?? classifyNotionError(err) ?? err;
    }
  }
}

function header(headers: unknown, name: string): string | undefined {
  if (headers && typeof headers === 'object') {
    const h = headers as { get?: (n: string) => string | null } & Record<string, unknown>;
    if (typeof h.get === 'function') return h.get(name) ?? undefined;
    const v = h[name] ?? h[name.toLowerCase()];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  }
  return undefined;
}

/** Maps a call path refusal to the engine's retry classes (null: not one). */
export function classifyLifecycleFailure(err: unknown): Error | null {
  const failure = lifecycleFailure(err);
  if (failure instanceof ReauthorizationRequired)
    return new TransientError(`waiting for reauthorization: ${failure.reason}`, 15 * 60_000);
  if (failure instanceof BudgetExhausted)
    return new TransientError(
      'Notion rate limit: waiting for the budget',
      Math.max(0, failure.retryAt - Date.now()),
    );
  if (failure instanceof ConnectionGone)
    return new PermanentError('the Notion connection no longer exists');
  return null;
}

/** Maps a Notion SDK error to the engine's retry classes (null: not a provider error). */
export function classifyNotionError(err: unknown): Error | null {
  if (RequestTimeoutError.isRequestTimeoutError(err))
    return new TransientError('Notion request timed out');
  if (!isHTTPResponseError(err)) return null;
  if (err.status === 429) {
    const retryAfter = header(err.headers, 'retry-after');
    const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
    return new TransientError(
      'Notion rate limit (429)',
      Number.isFinite(seconds) ? Math.ceil(seconds * 1000) : null,
    );
  }
  if (err.status >= 500) return new TransientError(`Notion answered ${err.status}`);
  if (err.status === 401 || err.status === 403)
    return new PermanentError(`Notion refused the connection's token (${err.status})`);
  return new PermanentError(`Notion answered ${err.status}: ${err.code}`);
}
