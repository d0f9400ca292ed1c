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

/** Notion at run time: events are sparse, so the page is read back before normalizing. */
export function createNotionEventSource(reader: NotionPageReader): EventSource {
  return {
    ...notionEventSource,
    async normalizeStored(row, options) {
      if (!row.eventType.startsWith('page.')) return null;
      if (options && options.document !== undefined)
        return normalizeNotionEvent(row.payload, options.document);
      let page: unknown = null;
      if (row.eventType !== 'page.deleted' && row.entityId)
        page = await reader.retrievePage(row.connectionId, row.entityId);
      return normalizeNotionEvent(row.payload, page);
    },
  };
}
