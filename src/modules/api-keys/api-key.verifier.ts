import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Database, Executor } from '../../db/database.ts';
import type { Scope } from '../../http/auth-context.ts';
import { clientAddress, type Limiter, rateLimited } from '../../http/rate-limit.ts';
import { recordMany, userAgentOf } from '../security-log/security-log.ts';
import { parseApiKey } from './api-key.format.ts';
import type { ApiKeyHasher } from './api-key.hasher.ts';
import { expiredApiKey, invalidApiKey, malformedApiKey, revokedApiKey } from './api-keys.errors.ts';
import {
  findKeyForVerification,
  insertKeyAddresses,
  type KeySighting,
  writeLastUsed,
} from './api-keys.repository.ts';

/** What a verified key lets a request do; cached, so it holds no secret. */
export interface VerifiedKey {
  keyId: string;
  userId: string;
  name: string;
  scopes: readonly Scope[];
  /** Epoch ms, or null for a key that never expires. */
  expiresAt: number | null;
  revokedAt: number | null;
  /** The bound workspace (owner's user id = personal, or an organisation id); null: unbound. */
  workspaceId: string | null;
}

interface CacheEntry extends VerifiedKey {
  cachedUntil: number;
}

/** Distinct key/address pairs remembered per process before the set starts over. */
const SIGHTINGS_MAX = 100_000;

export type Invalidation = { keyId: string } | { userId: string };

/** Cross-process invalidations travel on this LISTEN/NOTIFY channel. */
export const INVALIDATION_CHANNEL = 'api_key_invalidation';

export function encodeInvalidation(target: Invalidation): string {
  return 'keyId' in target ? `key:${target.keyId}` : `user:${target.userId}`;
}

function decodeInvalidation(payload: string): Invalidation | undefined {
  const [kind, id] = payload.split(':', 2);
  if (!id) return undefined;
  if (kind === 'key') return { keyId: id };
  if (kind === 'user') return { userId: id };
  return undefined;
}

export interface VerifierOptions {
  database: Database;
  hasher: ApiKeyHasher;
  cacheTtlMs: number;
  cacheMaxEntries: number;
  lastUsedIntervalMs: number;
  /** Per-address counter of failed verifications (throttles floods before any hashing). */
  failures: Limiter | null;
  log: FastifyBaseLogger;
  now?: () => number;
}

/**
 * Verifies `mo_` keys.
 *
 * - Format and checksum first: pure, no I/O.
 * - Warm path: a bounded in-memory cache keyed by SHA-256 of the full key. A hit costs one
 *   hash of 45 bytes and a map lookup: no database query, no argon2. Revocation and expiry
 *   are evaluated on every hit from the entry's fields, with the clock; revoke, roll and
 *   user deletion drop entries locally and, through NOTIFY, on every other instance.
 * - Cold path: a per-address failure throttle (before any query or hashing), then one
 *   indexed lookup by public id and one argon2id verify under bounded concurrency.
 *   Concurrent cold verifications of the same key share one lookup and one hash.
 * - Last use: remembered in memory and written in batches, at most once per key per interval.
 */
export class ApiKeyVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<VerifiedKey | null>>();
  /** Bumped by every invalidation; a cold verification that straddles one is not cached. */
  private epoch = 0;
  private readonly lastWritten = new Map<string, number>();
  private readonly pendingLastUsed = new Map<string, number>();
  /** `keyId address` pairs seen by this process; pending ones are not written yet. */
  private readonly knownSightings = new Set<string>();
  private readonly pendingSightings = new Map<string, KeySighting>();
  /** Invalidations whose transaction has not committed yet: keep those keys out of the cache. */
  private readonly held = new Map<string, number>();
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  now: () => number;
  readonly stats = { cacheHits: 0, coldVerifications: 0, lastUsedWrites: 0 };

  constructor(private readonly options: VerifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the last-used flush timer; the interval bounds how stale a displayed time is. */
  start(): void {
    const period = Math.max(1_000, Math.min(this.options.lastUsedIntervalMs || 1_000, 10_000));
    this.timer = setInterval(() => void this.flushLastUsed(), period);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushLastUsed();
  }

  /** Throws the contract's 401/429/503 errors; resolves with the verified key. */
  async authenticate(request: FastifyRequest, token: string): Promise<VerifiedKey> {
    const parsed = parseApiKey(token);
    if (!parsed.ok) {
      await this.countFailure(request);
      throw malformedApiKey();
    }
    const digest = createHash('sha256').update(token).digest('base64url');
    const now = this.now();
    const cached = this.cache.get(digest);
    let key: VerifiedKey | null;
    if (cached && cached.cachedUntil > now) {
      this.stats.cacheHits++;
      key = cached;
    } else {
      if (cached) this.cache.delete(digest);
      await this.throttle(request);
      let pending = this.inflight.get(digest);
      if (!pending) {
        pending = this.coldVerify(digest, parsed.publicId, parsed.secret).finally(() =>
          this.inflight.delete(digest),
        );
        this.inflight.set(digest, pending);
      }
      key = await pending;
    }
    if (!key) {
      await this.countFailure(request);
      throw invalidApiKey();
    }
    if (key.revokedAt !== null && key.revokedAt <= now) throw revokedApiKey();
    if (key.expiresAt !== null && key.expiresAt <= now) throw expiredApiKey();
    this.recordUse(key.keyId, now);
    this.recordSighting(key.keyId, request, now);
    return key;
  }

  private async coldVerify(
    digest: string,
    publicId: string,
    secret: string,
  ): Promise<VerifiedKey | null> {
    const epoch = this.epoch;
    this.stats.coldVerifications++;
    const row = await findKeyForVerification(this.options.database.db, publicId);
    if (!row) return null;
    const ok = await this.options.hasher.verify(row.secretHash, secret);
    if (!ok) return null;
    const key: VerifiedKey = {
      keyId: row.id,
      userId: row.userId,
      name: row.name,
      scopes: row.scopes,
      workspaceId: row.workspaceId,
      expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
      // A deleted owner's keys are revoked by the deletion hook; this covers a missed hook.
      revokedAt: row.revokedAt
        ? row.revokedAt.getTime()
        : row.userDeletedAt
          ? row.userDeletedAt.getTime()
          : null,
    };
    if (row.lastUsedAt && !this.lastWritten.has(key.keyId)) {
      this.lastWritten.set(key.keyId, row.lastUsedAt.getTime());
    }
    if (epoch === this.epoch && !this.isHeld(key)) this.remember(digest, key);
    return key;
  }

  private remember(digest: string, key: VerifiedKey): void {
    const { cacheMaxEntries, cacheTtlMs } = this.options;
    if (cacheMaxEntries <= 0 || cacheTtlMs <= 0) return;
    while (this.cache.size >= cacheMaxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
    this.cache.set(digest, { ...key, cachedUntil: this.now() + cacheTtlMs });
  }

  private async throttle(request: FastifyRequest): Promise<void> {
    const failures = this.options.failures;
    if (!failures) return;
    const state = await failures.peek(request);
    if (!state.allowed) {
      throw rateLimited(
        failures.rule,
        state,
        `Too many failed API key attempts from this address. Retry in ${Math.max(1, state.resetSeconds)} s.`,
      );
    }
  }

  /**
   * Counts a failed or credential-less request against its address; past the limit the
   * answer is 429 instead of 401 (unauthenticated calls are rate-limited per address).
   */
  async countFailure(request: FastifyRequest): Promise<void> {
    const failures = this.options.failures;
    if (!failures) return;
    const state = await failures.consume(request);
    if (!state.allowed) throw rateLimited(failures.rule, state);
  }

  /**
   * For a change made inside a transaction someone else commits (identity's onUserDeleted
   * hook): drops the entries now, keeps matching keys out of the cache until the commit's
   * notification arrives (or 10 s pass), and queues the NOTIFY in the transaction, so that
   * Postgres delivers it to every instance, this one included, exactly when it commits.
   */
  async invalidateOnCommit(
    tx: Executor,
    target: Invalidation | readonly Invalidation[],
  ): Promise<void> {
    const targets = Array.isArray(target) ? target : [target as Invalidation];
    if (targets.length === 0) return;
    const tokens = targets.map(encodeInvalidation);
    const until = this.now() + 10_000;
    for (const token of tokens) this.held.set(token, until);
    this.invalidateLocal(targets);
    const values = sql.join(
      tokens.map((t) => sql`(${t})`),
      sql`, `,
    );
    await tx.execute(
      sql`select pg_notify(${INVALIDATION_CHANNEL}, v.t) from (values ${values}) as v(t)`,
    );
  }

  private isHeld(key: VerifiedKey): boolean {
    if (this.held.size === 0) return false;
    const now = this.now();
    for (const token of [`key:${key.keyId}`, `user:${key.userId}`]) {
      const until = this.held.get(token);
      if (until === undefined) continue;
      if (until > now) return true;
      this.held.delete(token);
    }
    return false;
  }

  /** Drops cached entries now, in this process. Call after the change has committed. */
  invalidateLocal(target: Invalidation | readonly Invalidation[]): void {
    this.epoch++;
    const targets = Array.isArray(target) ? target : [target as Invalidation];
    const keyIds = new Set<string>();
    const userIds = new Set<string>();
    for (const t of targets) {
      if ('keyId' in t) keyIds.add(t.keyId);
      else userIds.add(t.userId);
    }
    for (const [digest, entry] of this.cache) {
      if (keyIds.has(entry.keyId) || userIds.has(entry.userId)) this.cache.delete(digest);
    }
  }

  /** Drops entries here and on every other instance (NOTIFY). */
  async invalidate(target: Invalidation): Promise<void> {
    this.invalidateLocal(target);
    try {
      await this.options.database.notify(INVALIDATION_CHANNEL, encodeInvalidation(target));
    } catch (err) {
      // Other instances still drop the entry when its TTL ends.
      this.options.log.warn({ err }, 'could not publish API key invalidation');
    }
  }

  async listen(): Promise<() => Promise<void>> {
    return this.options.database.listen(INVALIDATION_CHANNEL, (payload) => {
      const target = decodeInvalidation(payload);
      if (!target) return;
      this.held.delete(payload);
      this.invalidateLocal(target);
    });
  }

  get cacheSize(): number {
    return this.cache.size;
  }

  private recordUse(keyId: string, now: number): void {
    const last = this.lastWritten.get(keyId);
    if (last !== undefined && now - last < this.options.lastUsedIntervalMs) return;
    this.lastWritten.set(keyId, now);
    this.pendingLastUsed.set(keyId, now);
  }

  /**
   * Remembers the first request of a key from an address (in memory, once per process), for
   * the security log; written with the last-used batch. The table's primary key makes the
   * first sighting across processes and restarts the only one logged.
   */
  private recordSighting(keyId: string, request: FastifyRequest, now: number): void {
    const address = clientAddress(request);
    const id = `${keyId} ${address}`;
    if (this.knownSightings.has(id)) return;
    if (this.knownSightings.size >= SIGHTINGS_MAX) this.knownSightings.clear();
    this.knownSightings.add(id);
    this.pendingSightings.set(id, { keyId, address, at: now, userAgent: userAgentOf(request) });
  }

  private async flushSightings(): Promise<void> {
    if (this.pendingSightings.size === 0) return;
    const batch = [...this.pendingSightings.values()];
    this.pendingSightings.clear();
    try {
      await this.options.database.db.transaction(async (tx) => {
        const fresh = await insertKeyAddresses(tx, batch);
        const byId = new Map(batch.map((s) => [`${s.keyId} ${s.address}`, s]));
        await recordMany(
          tx,
          fresh.map((row) => {
            const seen = byId.get(`${row.keyId} ${row.address}`);
            return {
              action: 'api_key.used_from_new_address',
              actor: { userId: row.userId },
              target: { type: 'api_key', id: row.keyId },
              userId: row.userId,
              organisationId: row.workspaceId === row.userId ? null : row.workspaceId,
              address: row.address,
              userAgent: seen?.userAgent ?? null,
              at: seen?.at ?? this.now(),
              details: { name: row.name },
            };
          }),
        );
      });
    } catch (err) {
      this.options.log.warn({ err, sightings: batch.length }, 'could not record API key addresses');
    }
  }

  /** Writes pending last-used times in one statement. Safe to call at any time. */
  flushLastUsed(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      await this.flushSightings();
      if (this.pendingLastUsed.size === 0) return;
      const batch = [...this.pendingLastUsed].map(([id, at]) => ({ id, at: new Date(at) }));
      this.pendingLastUsed.clear();
      try {
        await writeLastUsed(this.options.database.db, batch);
        this.stats.lastUsedWrites++;
      } catch (err) {
        this.options.log.warn({ err, keys: batch.length }, 'could not record API key last use');
      }
      // Forget keys idle for longer than the interval so the map stays bounded.
      const horizon = this.now() - this.options.lastUsedIntervalMs;
      for (const [id, at] of this.lastWritten) if (at < horizon) this.lastWritten.delete(id);
    });
    return this.flushing;
  }
}
