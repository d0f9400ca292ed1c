import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { AppError } from '../../http/errors.ts';

/** argon2id: the `Algorithm.Argon2id` value of @node-rs/argon2 (a const enum there). */
const ARGON2ID = 2;

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * Hashes and verifies key secrets with argon2id. The native work runs on the libuv thread
 * pool (off the event loop); at most `concurrency` run at once and at most `queueMax` wait,
 * so a burst of cold verifications can neither monopolise the pool (which DNS and file I/O
 * share) nor grow memory without bound (19 MiB per running hash).
 */
export class ApiKeyHasher {
  readonly concurrency: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** How many argon2 operations ran (tests assert that a cached key runs none). */
  operations = 0;

  constructor(
    private readonly params: Argon2Params,
    options: { concurrency?: number | undefined; queueMax: number },
  ) {
    this.concurrency = options.concurrency ?? Math.max(1, Math.min(4, availableParallelism()));
    this.queueMax = options.queueMax;
  }

  private readonly queueMax: number;

  async hash(secret: string): Promise<string> {
    return this.run(() =>
      hash(secret, {
        algorithm: ARGON2ID,
        memoryCost: this.params.memoryCost,
        timeCost: this.params.timeCost,
        parallelism: this.params.parallelism,
      }),
    );
  }

  /** The PHC string carries its own parameters, so old hashes verify after a config change. */
  async verify(phc: string, secret: string): Promise<boolean> {
    return this.run(() => verify(phc, secret));
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    this.operations++;
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.queueMax) {
      return Promise.reject(
        new AppError({
          code: 'SERVICE_UNAVAILABLE',
          status: 503,
          message: 'Too many API key verifications in progress. Retry shortly.',
          headers: { 'retry-after': '1' },
        }),
      );
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.running++;
        resolve();
      });
    });
  }

  private release(): void {
    this.running--;
    const next = this.waiting.shift();
    if (next) next();
  }
}
