import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { refusal } from '../../http/rate-limit.ts';

/** argon2id: the `Algorithm.Argon2id` value of @node-rs/argon2 (a const enum there). */
const ARGON2ID = 2;

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Hashes and verifies key secrets with argon2id. The native work runs on the libuv thread
 * pool (off the event loop); at most `concurrency` run at once, so a burst of cold
 * verifications can neither monopolise the pool (which DNS and file I/O share) nor grow
 * memory without bound (19 MiB per running hash).
 *
 * Two queues: `priority` work (keys that verified recently, key creation) has its own
 * `reserved` waiting places and is served first; other work (unverified requests) waits in
 * at most `queueMax` places and past that is shed with 503 + Retry-After. A flood of
 * unknown keys therefore cannot push a known-good key out.
 */
export class ApiKeyHasher {
  readonly concurrency: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly priorityWaiting: Array<() => void> = [];
  private readonly queueMax: number;
  private readonly reserved: number;
  /** How many argon2 operations ran (tests assert that a cached key runs none). */
  operations = 0;
  /** How many unverified requests were shed with 503. */
  shed = 0;

  constructor(
    private readonly params: Argon2Params,
    options: { concurrency?: number | undefined; queueMax: number; reserved?: number },
  ) {
    this.concurrency = options.concurrency ?? Math.max(1, Math.min(4, availableParallelism()));
    this.queueMax = options.queueMax;
    this.reserved = options.reserved ?? Math.max(16, Math.ceil(options.queueMax / 4));
  }

  /** Hashing happens when a key is created or rolled by its owner: priority work. */
  async hash(secret: string): Promise<string> {
    return this.run(true, () =>
      hash(secret, {
        algorithm: ARGON2ID,
        memoryCost: this.params.memoryCost,
        timeCost: this.params.timeCost,
        parallelism: this.params.parallelism,
      }),
    );
  }

  /** The PHC string carries its own parameters, so old hashes verify after a config change. */
  async verify(
    phc: string,
    secret: string,
    options: { priority?: boolean } = {},
  ): Promise<boolean> {
    return this.run(options.priority ?? false, () => verify(phc, secret));
  }

  private async run<T>(priority: boolean, work: () => Promise<T>): Promise<T> {
    await this.acquire(priority);
    this.operations++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(priority: boolean): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    const queue = priority ? this.priorityWaiting : this.waiting;
    if (queue.length >= (priority ? this.reserved : this.queueMax)) {
      if (!priority) this.shed++;
      return Promise.reject(
        refusal({
          code: 'SERVICE_UNAVAILABLE',
          status: 503,
          message: 'Too many API key verifications in progress. Retry shortly.',
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return new Promise((resolve) => {
      queue.push(() => {
        this.running++;
        resolve();
      });
    });
  }

  private release(): void {
    this.running--;
    const next = this.priorityWaiting.shift() ?? this.waiting.shift();
    if (next) next();
  }
}
