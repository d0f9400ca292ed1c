import type { EventSourceDefinition } from '../../automations/automation.source.ts';
import type { EventSource } from '../../automations/automation.sources.ts';
import { NOTION } from './notion.id.ts';
import { normalizeNotionEvent, notionTriggerEvents } from './notion-event.ts';
import type { NotionPageReader } from './notion-reader.ts';

const compactId = (id: string | null | undefined) =>
  id ? id.replaceAll('-', '').toLowerCase() : '';

/** Notion as a source of rule triggers (pure: validation and normalizing). */
export const notionEventSource: EventSourceDefinition = {
  id: NOTION,
  triggerEvents: notionTriggerEvents,
  writesBack: true,
  checkScope(scope) {
    return scope.teamId
      ? [
          {
            path: 'trigger.scope.teamId',
            message: 'a Notion trigger is scoped by databaseId or parentPageId',
          },
        ]
      : [];
  },
  scopeMatches(scope, event) {
    if (scope.databaseId) {
      const want = compactId(scope.databaseId);
      if (
        compactId(event.scope.databaseId) !== want &&
        compactId(event.scope.dataSourceId) !== want
      )
        return false;
    }
    if (scope.parentPageId && compactId(event.scope.parentPageId) !== compactId(scope.parentPageId))
      return false;
    return true;
  },
  normalize: (payload, document) => normalizeNotionEvent(payload, document),
};

/** The page version (`last_edited_time`, ms) of a read-back page; null when it has none. */
function lastEditedAt(page: unknown): number | null {
  const value = (page as { last_edited_time?: unknown } | null)?.last_edited_time;
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? ms : null;
}

/**
 * Whether the event's authors are all integrations (an echo of a write-back is authored by
 * our bot). Notion rounds `last_edited_time` to the minute, so a person's edit in the minute
 * of our write has the same version: the author tells them apart.
 */
function byBotsOnly(payload: unknown): boolean {
  const authors = (payload as { authors?: unknown } | null)?.authors;
  if (!Array.isArray(authors)) return true;
  return authors.every((a) => (a as { type?: unknown } | null)?.type === 'bot');
}

/**
 * Notion at run time: events are sparse, so the page is read back before normalizing. A page
 * whose version is the one our own write-back produced is our echo: not applied (and so not
 * pushed back).
 */
export function createNotionEventSource(
  reader: NotionPageReader,
  isOwnWrite: (input: { pageId: string; lastEditedAt: number }) => Promise<boolean>,
): EventSource {
  return {
    ...notionEventSource,
    async normalizeStored(row, options) {
      if (!row.eventType.startsWith('page.')) return null;
      if (options && options.document !== undefined)
        return normalizeNotionEvent(row.payload, options.document);
      let page: unknown = null;
      if (row.eventType !== 'page.deleted' && row.entityId)
        page = await reader.retrievePage(row.connectionId, row.entityId);
      const edited = lastEditedAt(page);
      if (
        row.entityId &&
        edited !== null &&
        byBotsOnly(row.payload) &&
        (await isOwnWrite({ pageId: row.entityId, lastEditedAt: edited }))
      )
        return null;
      return normalizeNotionEvent(row.payload, page);
    },
  };
}
