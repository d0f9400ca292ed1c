import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import type { Db } from '../../../db/database.ts';
import { conflict } from '../../../http/errors.ts';
import { safeEqual } from '../../../http/safe-equal.ts';
import * as read from '../../inbox/delivery-read.ts';
import { webhookBadRequest, webhookUnauthorized } from '../../inbox/inbox.errors.ts';
import type {
  VerifiedDelivery,
  WebhookDelivery,
  WebhookVerifier,
} from '../../inbox/inbox-intake.ts';
import { TtlCache } from '../../inbox/ttl-cache.ts';
import {
  findConnectionById,
  findConnectionsByExternalWorkspace,
  updateConnection,
} from '../../integrations/integrations.repository.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import { SECRET_CONTEXT } from '../../integrations/secret-contexts.ts';
import { NOTION } from './notion.id.ts';
import { verifyNotionSignature } from './notion-signature.ts';

interface ResolvedNotionTarget {
  connectionId: string;
  verificationToken: string;
}

/** Secrets are cached briefly so that a burst of deliveries costs one insert each. */
const CACHE_TTL_MS = 30_000;

/**
 * Notion deliveries: the verification handshake (stored as pending for an admin to confirm)
 * and signed events (`X-Notion-Signature`), routed by `workspace_id`, deduplicated on the
 * event `id`. `?connection=<id>` is the per-connection URL shown in settings; the handshake
 * needs it (it carries no workspace), events work with or without it.
 */
export class NotionWebhookVerifier implements WebhookVerifier {
  readonly #cache = new TtlCache<ResolvedNotionTarget[]>(CACHE_TTL_MS);
  readonly route = {
    summary: 'Receive a Notion webhook delivery or verification handshake',
    querystring: z.object({ connection: z.uuid().optional() }),
  };

  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    /** `NOTION_EVENT_MAX_AGE_HOURS`, in ms. */
    private readonly maxAgeMs: number,
    private readonly log?: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {}

  invalidate(): void {
    this.#cache.clear();
  }

  async #resolve(workspaceId: string): Promise<ResolvedNotionTarget[]> {
    const cached = this.#cache.get(workspaceId);
    if (cached) return cached;
    const rows = await findConnectionsByExternalWorkspace(this.db, {
      provider: NOTION,
      externalWorkspaceId: workspaceId,
    });
    const resolved = rows.flatMap((r) =>
      r.notionVerificationTokenEnc
        ? [
            {
              connectionId: r.id,
              verificationToken: this.box.open(
                r.notionVerificationTokenEnc,
                SECRET_CONTEXT.notionVerificationToken,
              ),
            },
          ]
        : [],
    );
    this.#cache.set(workspaceId, resolved);
    return resolved;
  }

  /**
   * The handshake (`{ verification_token }`) is unauthenticated by nature: anyone can post
   * one. It is stored as *pending* on the connection named by `?connection=` and shown to
   * the workspace's admins, who confirm it; it never replaces a confirmed token.
   */
  async verify(input: WebhookDelivery): Promise<VerifiedDelivery> {
    const payload = read.jsonBody(input.body);
    const connectionId = input.query.connection;

    if (typeof payload.verification_token === 'string' && payload.type === undefined) {
      const token = read.string(payload.verification_token, 500);
      if (!token) throw webhookBadRequest('Malformed verification_token.');
      const connection = connectionId ? await findConnectionById(this.db, connectionId) : undefined;
      if (connection?.provider !== NOTION)
        throw webhookUnauthorized('Unknown subscription: use the URL shown in settings.');
      // A later handshake never replaces a pending one silently: the admin sees the first
      // (with when and from where it came) and discards it to let another land.
      if (connection.notionPendingTokenEnc) {
        const pending = this.box.open(
          connection.notionPendingTokenEnc,
          SECRET_CONTEXT.notionVerificationToken,
        );
        if (safeEqual(pending, token)) return { kind: 'handshake' };
        this.log?.warn(
          { connectionId: connection.id, from: input.remoteAddress },
          'notion handshake refused: another token is pending',
        );
        throw conflict(
          'A verification token is already pending for this subscription; an admin must confirm or discard it first.',
        );
      }
      await updateConnection(this.db, connection.id, {
        notionPendingTokenEnc: this.box.seal(token, SECRET_CONTEXT.notionVerificationToken),
        notionPendingReceivedAt: new Date(this.now()),
        notionPendingFrom: input.remoteAddress.slice(0, 100),
      });
      return { kind: 'handshake' };
    }

    const signature = read.header(input.headers, 'x-notion-signature');
    if (!signature) throw webhookUnauthorized('Missing X-Notion-Signature header.');
    const workspaceId = read.string(payload.workspace_id);
    const eventId = read.string(payload.id);
    const type = read.string(payload.type, 100);
    if (!workspaceId || !eventId || !type)
      throw webhookBadRequest('The payload has no id, type or workspace_id.');
    let targets = await this.#resolve(workspaceId);
    if (connectionId) targets = targets.filter((t) => t.connectionId === connectionId);
    const verified = targets.filter((t) =>
      verifyNotionSignature({
        body: input.body,
        signature,
        verificationToken: t.verificationToken,
      }),
    );
    if (verified.length === 0) throw webhookUnauthorized('Invalid signature.');
    // Signed, but possibly captured long ago: an event older than the window is refused, and
    // within it the event id deduplicates (inbox rows outlive the window, see retention).
    const occurredAt = read.isoTime(payload.timestamp);
    if (!occurredAt) throw webhookBadRequest('The event has no valid timestamp.');
    if (Date.parse(occurredAt) < this.now() - this.maxAgeMs)
      throw webhookUnauthorized(
        `The event is older than ${this.maxAgeMs / 3_600_000} hours; it is not accepted.`,
      );
    const entity = read.object(payload.entity);
    const payloadJson = read.storablePayload(input.body);
    return {
      kind: 'events',
      events: verified.map((t) => ({
        provider: NOTION,
        deliveryId: eventId,
        dedupeKey: eventId,
        connectionId: t.connectionId,
        eventType: type,
        entityType: read.string(entity?.type, 100),
        entityId: read.string(entity?.id),
        teamId: null,
        occurredAt,
        payloadJson,
      })),
    };
  }
}
