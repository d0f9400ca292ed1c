import type { FastifyBaseLogger } from 'fastify';
import type { z } from 'zod';
import type { Database } from '../../db/database.ts';
import type { NewInboxEvent } from './inbox.repository.ts';
import { type GroupCommitOptions, InboxGroupCommit } from './inbox-group-commit.ts';

/** NOTIFY channel announcing new inbox rows (coalesced, empty payload). */
export const INBOX_CHANNEL = 'inbox_events';

export type RequestHeaders = Record<string, string | string[] | undefined>;

/** A delivery as the webhook route received it: nothing in it is trusted yet. */
export interface WebhookDelivery {
  /** The exact bytes received; signatures are computed over them. */
  body: Buffer;
  headers: RequestHeaders;
  query: Record<string, string | undefined>;
  /** The sending address (as seen through TRUST_PROXY). */
  remoteAddress: string;
}

/**
 * What a provider's verifier made of a delivery: verified events to store, or a handshake
 * the provider handled itself (nothing to store). A delivery that fails verification throws
 * (`webhookUnauthorized`, `webhookBadRequest`) before anything is written.
 */
export type VerifiedDelivery = { kind: 'events'; events: NewInboxEvent[] } | { kind: 'handshake' };

/** A provider's half of the intake (`Provider.webhooks`). */
export interface WebhookVerifier {
  verify(delivery: WebhookDelivery): Promise<VerifiedDelivery>;
  /** Forget cached secrets (after a webhook is deleted, a token confirmed, a connection removed). */
  invalidate(): void;
  /** The route's documentation, and the query string it accepts. */
  route: { summary: string; description?: string; querystring?: z.ZodObject };
}

export interface WebhookAck {
  received: true;
  duplicate: boolean;
}

/**
 * The one intake path: the provider's verifier checks the delivery over its raw bytes, and
 * the verified events are committed to the inbox before the route answers 200 (concurrent
 * deliveries share commits: InboxGroupCommit). Nothing else happens here: the provider is
 * waiting (Linear gives up after 5 s) and processing belongs to the inbox worker.
 */
export class InboxIntake {
  readonly #listeners = new Set<(ids: string[]) => void>();
  readonly #commits: InboxGroupCommit;
  #notifyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly database: Database,
    private readonly log: FastifyBaseLogger,
    commit: GroupCommitOptions,
  ) {
    this.#commits = new InboxGroupCommit(database.db, commit);
  }

  async accept(verifier: WebhookVerifier, delivery: WebhookDelivery): Promise<WebhookAck> {
    const verified = await verifier.verify(delivery);
    if (verified.kind === 'handshake') return { received: true, duplicate: false };
    const inserted = await this.#commits.insert(verified.events);
    if (inserted.length > 0) this.#signal(inserted);
    return { received: true, duplicate: inserted.length === 0 };
  }

  /**
   * In-process wake-up for the worker: `listener` gets the ids of inbox rows just committed
   * (after the commit, before or while the provider gets its 200). Returns an unsubscribe
   * function. Other processes get a coalesced `NOTIFY inbox_events` (payload empty, at most
   * one per 100 ms) and must poll as a safety net anyway.
   */
  onInboxEvents(listener: (ids: string[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #signal(ids: string[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(ids);
      } catch (err) {
        this.log.error({ err }, 'inbox listener failed');
      }
    }
    if (this.#notifyTimer) return;
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = undefined;
      this.database
        .notify(INBOX_CHANNEL, '')
        .catch((err: unknown) => this.log.warn({ err }, 'inbox notify failed'));
    }, 100);
    this.#notifyTimer.unref();
  }

  stop(): void {
    if (this.#notifyTimer) clearTimeout(this.#notifyTimer);
    this.#notifyTimer = undefined;
  }
}
