import { createHash } from 'node:crypto';
import type { Db } from '../../../db/database.ts';
import * as read from '../../inbox/delivery-read.ts';
import { webhookBadRequest, webhookUnauthorized } from '../../inbox/inbox.errors.ts';
import type {
  VerifiedDelivery,
  WebhookDelivery,
  WebhookVerifier,
} from '../../inbox/inbox-intake.ts';
import { TtlCache } from '../../inbox/ttl-cache.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import { SECRET_CONTEXT } from '../../integrations/secret-contexts.ts';
import { LINEAR } from './linear.id.ts';
import { findRegistrationByProviderWebhookId } from './linear.repository.ts';
import { checkLinearTimestamp, verifyLinearSignature } from './linear-signature.ts';

interface ResolvedLinearWebhook {
  connectionId: string;
  teamId: string;
  secret: string;
}

/**
 * What makes two Linear deliveries the same event, from signed fields only: `Linear-Delivery`
 * is not signed (a captured body replayed within the 60 s window under a new header must not
 * become a second event), and `webhookTimestamp` changes on each of Linear's retries (they
 * come 1 min, 1 h and 6 h later and must pass the 60 s window). The webhook, the entity, the
 * action and when it happened (`createdAt`, and the entity's `updatedAt`) stay the same.
 * Without `createdAt` the signed bytes themselves are the key.
 */
export function linearDedupeKey(payload: Record<string, unknown>, body: Buffer): string {
  const data = read.object(payload.data);
  const parts = [
    payload.webhookId,
    payload.type,
    payload.action,
    data?.id,
    payload.createdAt,
    data?.updatedAt,
  ];
  const hash = createHash('sha256');
  if (typeof payload.createdAt !== 'string') return hash.update(body).digest('hex');
  return hash.update(JSON.stringify(parts)).digest('hex');
}

/** Secrets are cached briefly so that a burst of deliveries costs one insert each. */
const CACHE_TTL_MS = 30_000;

/**
 * Linear deliveries for the webhooks this server registered: found by the payload's
 * `webhookId`, verified with `Linear-Signature` over the raw bytes, `webhookTimestamp` within
 * 60 s, deduplicated on signed fields (`linearDedupeKey`).
 */
export class LinearWebhookVerifier implements WebhookVerifier {
  readonly #cache = new TtlCache<ResolvedLinearWebhook>(CACHE_TTL_MS);
  readonly route = {
    summary: 'Receive a Linear webhook delivery',
    description:
      'Signed by Linear (`Linear-Signature`, hex HMAC-SHA256 of the raw body). 401 when the webhook is unknown, the signature is wrong or `webhookTimestamp` is more than 60 s away; nothing is stored then.',
  };

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    private readonly now: () => number = Date.now,
  ) {}

  invalidate(): void {
    this.#cache.clear();
  }

  async #resolve(webhookId: string): Promise<ResolvedLinearWebhook | undefined> {
    const cached = this.#cache.get(webhookId);
    if (cached) return cached;
    const row = await findRegistrationByProviderWebhookId(this.db, webhookId);
    if (!row) return undefined;
    const resolved = {
      connectionId: row.connectionId,
      teamId: row.teamId,
      secret: this.box.open(row.secretEnc, SECRET_CONTEXT.linearWebhookSecret),
    };
    this.#cache.set(webhookId, resolved);
    return resolved;
  }

  async verify(input: WebhookDelivery): Promise<VerifiedDelivery> {
    const payload = read.jsonBody(input.body);
    const signature = read.header(input.headers, 'linear-signature');
    if (!signature) throw webhookUnauthorized('Missing Linear-Signature header.');
    const webhookId = read.string(payload.webhookId);
    const webhook = webhookId ? await this.#resolve(webhookId) : undefined;
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
    const deliveryId = read.string(read.header(input.headers, 'linear-delivery'));
    if (!deliveryId) throw webhookBadRequest('Missing Linear-Delivery header.');
    const type = read.string(payload.type, 100);
    const action = read.string(payload.action, 100);
    if (!type || !action) throw webhookBadRequest('The payload has no type or action.');
    const data = read.object(payload.data);
    const team = read.object(data?.team);
    return {
      kind: 'events',
      events: [
        {
          provider: LINEAR,
          deliveryId,
          dedupeKey: linearDedupeKey(payload, input.body),
          connectionId: webhook.connectionId,
          eventType: `${type}.${action}`,
          entityType: type,
          entityId: read.string(data?.id),
          teamId: read.string(data?.teamId) ?? read.string(team?.id) ?? webhook.teamId,
          occurredAt: read.isoTime(payload.createdAt),
          payloadJson: read.storablePayload(input.body),
        },
      ],
    };
  }
}
