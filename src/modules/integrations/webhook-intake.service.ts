import type { Db } from '../../db/database.ts';
import { parseJsonObject } from '../../http/raw-body.ts';
import { webhookBadRequest, webhookUnauthorized } from './integrations.errors.ts';
import {
  findConnectionById,
  findNotionConnectionsByWorkspaceId,
  findRegistrationByProviderWebhookId,
  insertInboxEvents,
  type NewInboxEvent,
  updateConnection,
} from './integrations.repository.ts';
import type { SecretBox } from './secret-box.ts';
import { SECRET_CONTEXT } from './secret-contexts.ts';
import { TtlCache } from './ttl-cache.ts';
import {
  checkLinearTimestamp,
  verifyLinearSignature,
  verifyNotionSignature,
} from './webhook-signatures.ts';

export interface WebhookAck {
  received: true;
  duplicate: boolean;
}

interface ResolvedLinearWebhook {
  connectionId: string;
  teamId: string;
  secret: string;
}

interface ResolvedNotionTarget {
  connectionId: string;
  verificationToken: string;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.length > 0 ? first : undefined;
}

function stringField(value: unknown, maxLength = 200): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength ? value : null;
}

function isoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function objectField(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * The verified body as text for the jsonb column. Postgres' jsonb cannot hold U+0000, which
 * JSON allows (`\u0000`); such a body would fail the insert and be lost after the provider's
 * retries. Only then is the payload re-serialised, with NULs removed from strings; the
 * signature was already checked over the original bytes.
 */
export function storablePayloadJson(raw: Buffer): string {
  const text = raw.toString('utf8');
  if (!text.includes('\\u0000')) return text;
  return JSON.stringify(JSON.parse(text), (_key, value: unknown) =>
    typeof value === 'string' ? value.replaceAll('\u0000', '') : value,
  );
}

/** Secrets are cached briefly so that a burst of deliveries costs one insert each. */
const CACHE_TTL_MS = 30_000;

/**
 * Verifies provider deliveries over their raw bytes and commits them to the inbox. Nothing
 * else happens here: the provider is waiting (Linear gives up after 5 s) and processing
 * belongs to the automation engine. Every failure throws before anything is written.
 */
export class WebhookIntake {
  readonly #linear = new TtlCache<ResolvedLinearWebhook>(CACHE_TTL_MS);
  readonly #notion = new TtlCache<ResolvedNotionTarget[]>(CACHE_TTL_MS);

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    /** Called after new rows are committed (not for duplicates); must not throw or block. */
    private readonly onInserted: (ids: string[]) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget cached secrets (after a webhook is deleted, a token confirmed, a connection removed). */
  invalidate(): void {
    this.#linear.clear();
    this.#notion.clear();
  }

  async #resolveLinear(webhookId: string): Promise<ResolvedLinearWebhook | undefined> {
    const cached = this.#linear.get(webhookId);
    if (cached) return cached;
    const row = await findRegistrationByProviderWebhookId(this.db, webhookId);
    if (!row) return undefined;
    const resolved = {
      connectionId: row.connectionId,
      teamId: row.teamId,
      secret: this.box.open(row.secretEnc, SECRET_CONTEXT.linearWebhookSecret),
    };
    this.#linear.set(webhookId, resolved);
    return resolved;
  }

  async acceptLinear(input: { body: Buffer; headers: Headers }): Promise<WebhookAck> {
    const payload = parseJsonObject(input.body);
    if (!payload) throw webhookBadRequest('The body is not a JSON object.');
    const signature = header(input.headers, 'linear-signature');
    if (!signature) throw webhookUnauthorized('Missing Linear-Signature header.');
    const webhookId = stringField(payload.webhookId);
    const webhook = webhookId ? await this.#resolveLinear(webhookId) : undefined;
    if (!webhook) throw webhookUnauthorized('Unknown webhook.');
    if (!verifyLinearSignature({ body: input.body, signature, secret: webhook.secret }))
      throw webhookUnauthorized('Invalid signature.');
    const timestamp = checkLinearTimestamp(payload.webhookTimestamp, this.now());
    if (timestamp !== 'ok')
      throw webhookUnauthorized(
        timestamp === 'missing'
          ? 'Missing webhookTimestamp.'
          : 'webhookTimestamp is more than 60 seconds from now.',
      );
    const deliveryId = stringField(header(input.headers, 'linear-delivery'));
    if (!deliveryId) throw webhookBadRequest('Missing Linear-Delivery header.');
    const type = stringField(payload.type, 100);
    const action = stringField(payload.action, 100);
    if (!type || !action) throw webhookBadRequest('The payload has no type or action.');
    const data = objectField(payload.data);
    const team = objectField(data?.team);
    const event: NewInboxEvent = {
      provider: 'linear',
      deliveryId,
      connectionId: webhook.connectionId,
      eventType: `${type}.${action}`,
      entityType: type,
      entityId: stringField(data?.id),
      teamId: stringField(data?.teamId) ?? stringField(team?.id) ?? webhook.teamId,
      occurredAt: isoTime(payload.createdAt),
      payloadJson: storablePayloadJson(input.body),
    };
    const inserted = await insertInboxEvents(this.db, [event]);
    if (inserted.length > 0) this.onInserted(inserted);
    return { received: true, duplicate: inserted.length === 0 };
  }

  async #resolveNotion(workspaceId: string): Promise<ResolvedNotionTarget[]> {
    const cached = this.#notion.get(workspaceId);
    if (cached) return cached;
    const rows = await findNotionConnectionsByWorkspaceId(this.db, workspaceId);
    const resolved = rows.map((r) => ({
      connectionId: r.id,
      verificationToken: this.box.open(r.tokenEnc, SECRET_CONTEXT.notionVerificationToken),
    }));
    this.#notion.set(workspaceId, resolved);
    return resolved;
  }

  /**
   * The handshake (`{ verification_token }`) is unauthenticated by nature: anyone can post
   * one. It is stored as *pending* on the connection named by `?connection=` and shown to
   * the workspace's admins, who confirm it; it never replaces a confirmed token.
   */
  async acceptNotion(input: {
    body: Buffer;
    headers: Headers;
    connectionId: string | undefined;
  }): Promise<WebhookAck> {
    const payload = parseJsonObject(input.body);
    if (!payload) throw webhookBadRequest('The body is not a JSON object.');

    if (typeof payload.verification_token === 'string' && payload.type === undefined) {
      const token = stringField(payload.verification_token, 500);
      if (!token) throw webhookBadRequest('Malformed verification_token.');
      const connection = input.connectionId
        ? await findConnectionById(this.db, input.connectionId)
        : undefined;
      if (connection?.provider !== 'notion')
        throw webhookUnauthorized('Unknown subscription: use the URL shown in settings.');
      await updateConnection(this.db, connection.id, {
        notionPendingTokenEnc: this.box.seal(token, SECRET_CONTEXT.notionVerificationToken),
        notionPendingReceivedAt: new Date(this.now()),
      });
      return { received: true, duplicate: false };
    }

    const signature = header(input.headers, 'x-notion-signature');
    if (!signature) throw webhookUnauthorized('Missing X-Notion-Signature header.');
    const workspaceId = stringField(payload.workspace_id);
    const eventId = stringField(payload.id);
    const type = stringField(payload.type, 100);
    if (!workspaceId || !eventId || !type)
      throw webhookBadRequest('The payload has no id, type or workspace_id.');
    let targets = await this.#resolveNotion(workspaceId);
    if (input.connectionId) targets = targets.filter((t) => t.connectionId === input.connectionId);
    const verified = targets.filter((t) =>
      verifyNotionSignature({
        body: input.body,
        signature,
        verificationToken: t.verificationToken,
      }),
    );
    if (verified.length === 0) throw webhookUnauthorized('Invalid signature.');
    const entity = objectField(payload.entity);
    const payloadJson = storablePayloadJson(input.body);
    const inserted = await insertInboxEvents(
      this.db,
      verified.map((t) => ({
        provider: 'notion' as const,
        deliveryId: eventId,
        connectionId: t.connectionId,
        eventType: type,
        entityType: stringField(entity?.type, 100),
        entityId: stringField(entity?.id),
        teamId: null,
        occurredAt: isoTime(payload.timestamp),
        payloadJson,
      })),
    );
    if (inserted.length > 0) this.onInserted(inserted);
    return { received: true, duplicate: inserted.length === 0 };
  }
}
