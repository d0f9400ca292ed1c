import type { Client } from '@notionhq/client';
import { isHTTPResponseError, RequestTimeoutError } from '@notionhq/client';
import { PermanentError, TransientError } from '../../inbox/inbox.errors.ts';

/** Reads a Notion page (null when it is gone or not shared with the integration). */
export interface NotionPageReader {
  retrievePage(connectionId: string, pageId: string): Promise<unknown | null>;
}

/**
 * Reads Notion pages for the engine (Notion events are sparse: the page is read back).
 * Paced to `requestsPerSecond` per connection in this process (Notion allows about 3 per
 * integration); a 429 becomes a TransientError carrying `Retry-After`, so the worker retries
 * the event no sooner than Notion asked. A page that is gone or not shared reads as null.
 */
export class NotionReader implements NotionPageReader {
  readonly #nextSlot = new Map<string, number>();

  constructor(
    private readonly clientFor: (connectionId: string) => Promise<Client | undefined>,
    private readonly requestsPerSecond: number,
  ) {}

  async #pace(connectionId: string): Promise<void> {
    const spacing = 1000 / this.requestsPerSecond;
    const now = Date.now();
    const at = Math.max(now, this.#nextSlot.get(connectionId) ?? 0);
    this.#nextSlot.set(connectionId, at + spacing);
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  async retrievePage(connectionId: string, pageId: string): Promise<unknown | null> {
    const client = await this.clientFor(connectionId);
    if (!client) throw new PermanentError('the Notion connection no longer exists');
    await this.#pace(connectionId);
    try {
      return await client.pages.retrieve({ page_id: pageId });
    } catch (err) {
      if (isHTTPResponseError(err) && err.status === 404) return null;
      throw classifyNotionError(err) ?? err;
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
