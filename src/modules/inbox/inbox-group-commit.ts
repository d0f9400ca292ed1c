import type { Executor } from '../../db/database.ts';
import { inboxDedupeIdentity, insertInboxEvents, type NewInboxEvent } from './inbox.repository.ts';

interface Waiter {
  events: readonly NewInboxEvent[];
  resolve: (ids: string[]) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitOptions {
  /** Inserts on the wire at once; deliveries arriving while all are busy gather for the next. */
  maxInFlight: number;
  /** Most events in one statement (10 parameters each; Postgres allows 65,535). */
  maxEvents: number;
}

/**
 * Group commit for the webhook intake. Every delivery is still committed before it is
 * answered, but concurrent deliveries share a commit: a delivery that finds a free slot is
 * inserted at once (no added wait when alone); deliveries arriving while `maxInFlight`
 * inserts are on the wire gather, and the next free slot inserts all of them as one
 * multi-row, autocommitted statement. Each delivery learns exactly which of its events were
 * new. A failing statement (one bad row fails all of them) is retried one delivery at a
 * time, so only the bad delivery gets the error.
 */
export class InboxGroupCommit {
  #gathered: Waiter[] = [];
  #inFlight = 0;

  constructor(
    private readonly db: Executor,
    private readonly options: GroupCommitOptions,
  ) {}

  /** The ids of the events that were new (the others were already in the inbox). */
  insert(events: readonly NewInboxEvent[]): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.#gathered.push({ events, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.options.maxInFlight && this.#gathered.length > 0) {
      const group = this.#take();
      this.#inFlight++;
      void this.#commit(group).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  #take(): Waiter[] {
    const group: Waiter[] = [];
    let events = 0;
    while (this.#gathered.length > 0) {
      const next = this.#gathered[0];
      if (!next || (group.length > 0 && events + next.events.length > this.options.maxEvents))
        break;
      this.#gathered.shift();
      group.push(next);
      events += next.events.length;
    }
    return group;
  }

  async #commit(group: Waiter[]): Promise<void> {
    if (group.length === 1) return this.#commitAlone(group[0]);
    // Rows in key order: two concurrent statements holding the same keys then lock them in
    // the same order and cannot deadlock. The sort is stable, so among deliveries of the
    // same event the earliest arrival is the one stored.
    const events = group
      .flatMap((w) => w.events)
      .sort((a, b) => compare(inboxDedupeIdentity(a), inboxDedupeIdentity(b)));
    let inserted: Array<{ id: string; identity: string }>;
    try {
      inserted = await insertInboxEvents(this.db, events);
    } catch {
      await Promise.all(group.map((w) => this.#commitAlone(w)));
      return;
    }
    const newIds = new Map(inserted.map((row) => [row.identity, row.id]));
    for (const waiter of group) {
      const ids: string[] = [];
      for (const event of waiter.events) {
        const identity = inboxDedupeIdentity(event);
        const id = newIds.get(identity);
        if (id === undefined) continue;
        ids.push(id);
        newIds.delete(identity);
      }
      waiter.resolve(ids);
    }
  }

  async #commitAlone(waiter: Waiter | undefined): Promise<void> {
    if (!waiter) return;
    try {
      waiter.resolve((await insertInboxEvents(this.db, waiter.events)).map((row) => row.id));
    } catch (err) {
      waiter.reject(err);
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
