import {
  baseFields,
  isObject,
  ms,
  type NormalizedEvent,
  num,
  obj,
  str,
  strings,
} from '../../automations/automation.event.ts';
import { NOTION } from './notion.id.ts';

/** Events a rule can trigger on. */
export const notionTriggerEvents = [
  'page.created',
  'page.properties_updated',
  'page.content_updated',
  'page.deleted',
  'page.moved',
] as const;

function plainText(value: unknown): string {
  if (!Array.isArray(value)) return '';
  return value
    .map((part) => {
      const o = obj(part);
      return str(o?.plain_text) ?? str(obj(o?.text)?.content) ?? '';
    })
    .join('');
}

/** A Notion property value as a plain JSON value conditions can compare. */
export function simplifyNotionProperty(property: unknown): unknown {
  const p = obj(property);
  if (!p) return null;
  const type = str(p.type) ?? '';
  const v = p[type];
  switch (type) {
    case 'title':
    case 'rich_text':
      return plainText(v);
    case 'number':
    case 'checkbox':
    case 'url':
    case 'email':
    case 'phone_number':
    case 'created_time':
    case 'last_edited_time':
      return v ?? null;
    case 'select':
    case 'status':
      return str(obj(v)?.name);
    case 'multi_select':
      return Array.isArray(v) ? v.map((o) => str(obj(o)?.name)).filter((n) => n !== null) : [];
    case 'date':
      return str(obj(v)?.start);
    case 'people':
      return Array.isArray(v)
        ? v.map((o) => str(obj(obj(o)?.person)?.email) ?? str(obj(o)?.id)).filter(Boolean)
        : [];
    case 'relation':
      return Array.isArray(v) ? v.map((o) => str(obj(o)?.id)).filter(Boolean) : [];
    case 'formula': {
      const f = obj(v);
      const ft = str(f?.type) ?? '';
      const fv = f?.[ft];
      return ft === 'date' ? str(obj(fv)?.start) : (fv ?? null);
    }
    case 'unique_id': {
      const u = obj(v);
      const n = num(u?.number);
      if (n === null) return null;
      return u?.prefix ? `${str(u.prefix)}-${n}` : n;
    }
    default:
      return null;
  }
}

/**
 * Normalizes a Notion webhook event together with the page read back through the API
 * (`pages.retrieve`); `page` is null when the page could not be read (deleted, no access),
 * and the event then carries only what the delivery said.
 */
export function normalizeNotionEvent(payload: unknown, page: unknown): NormalizedEvent | null {
  const p = obj(payload);
  if (!p) return null;
  const type = str(p.type) ?? '';
  if (!type.startsWith('page.')) return null;
  const entity = obj(p.entity);
  const id = str(entity?.id) ?? str(obj(page)?.id);
  if (!id) return null;

  const fields = baseFields(NOTION, 'page', id);
  fields.event = type;
  fields.action =
    type === 'page.created' ? 'create' : type === 'page.deleted' ? 'remove' : 'update';
  const authors = Array.isArray(p.authors) ? p.authors.map(obj).filter(isObject) : [];
  const author = authors[0];
  fields.actor = author
    ? { id: str(author.id), name: null, email: null, type: str(author.type) }
    : null;

  const eventData = obj(p.data);
  const pg = obj(page);
  const parent = obj(pg?.parent) ?? obj(eventData?.parent);
  let databaseId: string | null = null;
  let dataSourceId: string | null = null;
  let parentPageId: string | null = null;
  if (parent) {
    const parentType = str(parent.type);
    databaseId = str(parent.database_id);
    dataSourceId = str(parent.data_source_id);
    parentPageId = str(parent.page_id);
    // In the event payload the parent is `{id, type}` with type `database`/`page`/...
    if (!databaseId && !parentPageId && str(parent.id)) {
      if (parentType === 'database') databaseId = str(parent.id);
      else if (parentType === 'page') parentPageId = str(parent.id);
      else if (parentType === 'data_source') dataSourceId = str(parent.id);
    }
    fields.parent = {
      type: parentType,
      id: databaseId ?? dataSourceId ?? parentPageId ?? str(parent.id),
    };
    if (databaseId || dataSourceId) fields.database = { id: databaseId, dataSourceId };
  }

  const propertyIdToName = new Map<string, string>();
  if (pg) {
    fields.url = str(pg.url);
    fields.createdAt = str(pg.created_time);
    fields.updatedAt = str(pg.last_edited_time);
    fields.archived = pg.archived === true || pg.in_trash === true;
    const props = obj(pg.properties) ?? {};
    for (const [name, value] of Object.entries(props)) {
      fields.properties[name] = simplifyNotionProperty(value);
      const pid = str(obj(value)?.id);
      if (pid) propertyIdToName.set(pid, name);
      if (str(obj(value)?.type) === 'title') fields.title = plainText(obj(value)?.title);
    }
  }
  if (type === 'page.deleted') fields.archived = true;
  const updated = strings(eventData?.updated_properties);
  fields.changes.properties = updated.map((pid) => propertyIdToName.get(pid) ?? pid);
  fields.changes.fields = [...fields.changes.properties];
  if (fields.title !== null) fields.changes.titleChanged = updated.some((pid) => pid === 'title');

  const occurredAt = ms(p.timestamp) ?? Date.now();
  return {
    source: NOTION,
    event: type,
    entityType: 'page',
    entityId: id,
    // Notion orders by the event timestamp (nearby edits are merged into one event).
    entityVersionAt: occurredAt,
    occurredAt,
    actor: fields.actor,
    scope: { teamIds: [], databaseId, dataSourceId, parentPageId },
    fields,
    ref: { provider: NOTION, externalId: id, url: fields.url, title: fields.title },
  };
}
