import { createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { serviceUnavailable } from '../../http/errors.ts';

const keyListSchema = z.object({
  public_keys: z.array(
    z.object({ key_identifier: z.string().min(1), key: z.string().min(1) }).loose(),
  ),
});

export interface GithubPublicKeysOptions {
  url: string;
  /** Shortest time between two fetches caused by an unknown identifier. */
  refetchMs: number;
  /** The whole list is refreshed after this long even if every identifier is known. */
  ttlMs?: number;
  timeoutMs?: number;
}

/**
 * GitHub's secret-scanning signing keys (`GET /meta/public_keys/secret_scanning`), cached.
 * An unknown identifier (GitHub rotated) triggers one refetch, at most once per `refetchMs`,
 * shared by concurrent requests: a flood of made-up identifiers costs GitHub one request per
 * interval, never one per delivery.
 */
export class GithubPublicKeys {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  now: () => number = Date.now;
  /** How many times the list was fetched (tests assert it is not per request). */
  fetches = 0;

  constructor(private readonly options: GithubPublicKeysOptions) {}

  /** The key for an identifier, or undefined when GitHub does not list it. */
  async get(identifier: string): Promise<KeyObject | undefined> {
    if (this.inflight) await this.inflight.catch(() => undefined);
    const ttl = this.options.ttlMs ?? 3_600_000;
    const age = this.now() - this.fetchedAt;
    const known = this.keys.get(identifier);
    if (known && age < ttl) return known;
    if (known || age >= this.options.refetchMs) {
      try {
        await this.refresh();
      } catch (err) {
        // Keep verifying with the keys we had when GitHub's list is briefly unreachable.
        if (known) return known;
        throw err;
      }
    }
    return this.keys.get(identifier);
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<void> {
    this.fetches++;
    // Counted as a fetch even if it fails, so an unreachable GitHub is not hammered either.
    this.fetchedAt = this.now();
    let body: unknown;
    try {
      const response = await fetch(this.options.url, {
        headers: { accept: 'application/json', 'user-agent': 'MONOid secret-scanning' },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      body = await response.json();
    } catch {
      throw serviceUnavailable("GitHub's secret-scanning keys could not be fetched.", {
        'retry-after': '5',
      });
    }
    const parsed = keyListSchema.safeParse(body);
    if (!parsed.success) {
      throw serviceUnavailable("GitHub's secret-scanning key list was not understood.");
    }
    const next = new Map<string, KeyObject>();
    for (const entry of parsed.data.public_keys) {
      try {
        next.set(entry.key_identifier, createPublicKey(entry.key));
      } catch {
        // An unparsable key cannot verify anything; the others still can.
      }
    }
    this.keys = next;
  }
}
