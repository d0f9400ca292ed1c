import type { SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import type { InboxEventRow } from '../inbox/inbox.table.ts';
import type { BatchCache } from '../inbox/inbox.worker.ts';
import type { ProviderId } from '../integrations/integrations.table.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import type { EffectContext } from './automation.effects.ts';
import type { NormalizedEvent } from './automation.event.ts';
import type { EventSourceDefinition } from './automation.source.ts';
import type { RunOutcome } from './automations.repository.ts';

/** A container kept in step with the provider by the built-in sync (a Linear team link). */
export interface SyncTarget {
  /** Unique per event: `sync:<container id>`. */
  key: string;
  containerId: string;
  /** Who made the link; items are created as this user, else the connection's owner. */
  createdByUserId: string | null;
  run(ctx: EffectContext, event: NormalizedEvent): Promise<SyncOutcome>;
}

/** One sync target to run for one event, with the context the engine made for it. */
export interface SyncRun {
  target: SyncTarget;
  event: NormalizedEvent;
  ctx: EffectContext;
}

export type SyncOutcome = RunOutcome & { effects: unknown[] };

/** The runtime half: reads the provider and the provider's own tables. */
export interface EventSource extends EventSourceDefinition {
  /**
   * Normalizes a stored inbox row, reading the provider back when its events are sparse.
   * `document` (dry runs) replaces that read when given.
   */
  normalizeStored(
    row: Pick<InboxEventRow, 'payload' | 'connectionId' | 'entityId' | 'eventType'>,
    options?: { document?: unknown },
  ): Promise<NormalizedEvent | null>;
  /** Containers the built-in sync keeps in step with this event's entity. */
  syncTargets?(input: {
    db: Executor;
    row: InboxEventRow;
    event: NormalizedEvent;
    cache: BatchCache;
  }): Promise<SyncTarget[]>;
  /**
   * Runs the sync targets of a claimed batch at once (in provider order, in the worker's
   * transaction `db`), with the same outcomes as running each; absent: one at a time.
   * `defer`, when given, may take the batch's last writes (statements that can go together,
   * see `executeTogether`) instead of them being sent: the caller sends them in the same
   * transaction before anything else reads or writes (the engine sends them with the runs'
   * own statement: one round trip less).
   */
  runSyncBatch?(
    db: Executor,
    runs: readonly SyncRun[],
    defer?: (writes: readonly SQL[]) => void,
  ): Promise<SyncOutcome[]>;
  /** Registers / releases the webhook a rule needs (`webhookNeedOf`), reference-counted. */
  acquireWebhook?(input: { workspace: Workspace; need: string; reason: string }): Promise<void>;
  releaseWebhook?(input: { workspace: Workspace; need: string; reason: string }): Promise<void>;
}

/** Looks a source up by id; automations receive the registry's list at start. */
export class EventSources {
  readonly #byId: Map<ProviderId, EventSource>;

  constructor(readonly list: readonly EventSource[]) {
    this.#byId = new Map(list.map((s) => [s.id, s]));
  }

  get(id: ProviderId): EventSource | undefined {
    return this.#byId.get(id);
  }
}
