import { createHash, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Database, Executor } from '../../db/database.ts';
import type { Scope } from '../../http/auth-context.ts';
import { clientAddress, type Limiter, rateLimited, refusal } from '../../http/rate-limit.ts';
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

/**
 * - `perAddressAndKey`: failures per (client address, public key id), and per address for
 *   requests with no usable key (none, malformed);
 * - `perKey`: failures per public key id, from any address.
 */
export interface FailureLimiters {
  perAddressAndKey: Limiter;
  perKey: Limiter;
}

/** How long a key that verified keeps its priority (throttle exemption, reserved hashing). */
const RECENTLY_VERIFIED_MS = 24 * 3_600_000;

export interface VerifierOptions {
  database: Database;
  hasher: ApiKeyHasher;
  cacheTtlMs: number;
  cacheMaxEntries: number;
  lastUsedIntervalMs: number;
  /** Failure counters (throttle floods before any lookup or hashing); null: none. */
  failures: FailureLimiters | null;
  /** Cold verifications one client address may have running at once (recent keys exempt). */
  coldPerAddress: number;
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
 * - Cold path: failure throttles per (address, key id) and per key id (before any query or
 *   hashing) and a cap on running cold verifications per address, then one indexed lookup
 *   by public id and one argon2id verify under bounded concurrency (an unknown id verifies
 *   against a dummy hash, so it takes as long). Keys that verified recently skip the
 *   throttles and get reserved hashing places. Concurrent cold verifications of the same key
 *   share one lookup and one hash.
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
  /**
   * SHA-256 digests of full keys that verified within RECENTLY_VERIFIED_MS (no secret: a
   * digest cannot be turned back into a key, nor produced without it). Such a key skips the
   * failure throttles and the per-address cap and gets reserved hashing capacity: it is never
   * refused because of other keys' failures. It still gets a full lookup and argon2 verify.
   */
  private readonly recentlyVerified = new Map<
    string,
    { keyId: string; userId: string; until: number }
  >();
  /** Cold verifications running per client address. */
  private readonly coldByAddress = new Map<string, number>();
  /** Unknown ids are verified against this, so they take as long to refuse as known ones. */
  private dummyHash: Promise<string> | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  now: () => number;
  readonly stats = { cacheHits: 0, coldVerifications: 0, lastUsedWrites: 0 };

  constructor(private readonly options: VerifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the last-used flush timer; the interval bounds how stale a displayed time is. */
  start(): void {
    this.dummyPhc();
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
      const trusted = this.isRecentlyVerified(digest, now);
      if (!trusted) await this.throttle(request, parsed.publicId);
      let pending = this.inflight.get(digest);
      if (!pending) {
        const release = trusted ? () => undefined : this.claimColdSlot(request);
        pending = this.coldVerify(digest, parsed.publicId, parsed.secret, trusted).finally(() => {
          this.inflight.delete(digest);
          release();
        });
        this.inflight.set(digest, pending);
      }
      key = await pending;
    }
    if (!key) {
      await this.countFailure(request, parsed.publicId);
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
    priority: boolean,
  ): Promise<VerifiedKey | null> {
    const epoch = this.epoch;
    this.stats.coldVerifications++;
    const row = await findKeyForVerification(this.options.database.db, publicId);
    // An unknown id costs the same argon2 verify as a wrong secret (security finding 10).
    const phc = row?.secretHash ?? (await this.dummyPhc());
    const ok = await this.options.hasher.verify(phc, secret, { priority });
    if (!row || !ok) return null;
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
    this.rememberVerified(digest, key);
    if (epoch === this.epoch && !this.isHeld(key)) this.remember(digest, key);
    return key;
  }

  /** A hash of a random secret with the configured parameters, made once. */
  private dummyPhc(): Promise<string> {
    this.dummyHash ??= this.options.hasher.hash(randomBytes(18).toString('base64url'));
    return this.dummyHash;
  }

  private isRecentlyVerified(digest: string, now: number): boolean {
    const entry = this.recentlyVerified.get(digest);
    if (!entry) return false;
    if (entry.until > now) return true;
    this.recentlyVerified.delete(digest);
    return false;
  }

  private rememberVerified(digest: string, key: VerifiedKey): void {
    const max = Math.max(1_000, this.options.cacheMaxEntries);
    this.recentlyVerified.delete(digest);
    while (this.recentlyVerified.size >= max) {
      const oldest = this.recentlyVerified.keys().next();
      if (oldest.done) break;
      this.recentlyVerified.delete(oldest.value);
    }
    this.recentlyVerified.set(digest, {
      keyId: key.keyId,
      userId: key.userId,
      until: this.now() + RECENTLY_VERIFIED_MS,
    });
  }

  /**
   * Takes one of the address's cold-verification places, or answers 429: one address cannot
   * occupy the lookups and the hashing pool with keys that never verified.
   */
  private claimColdSlot(request: FastifyRequest): () => void {
    const address = clientAddress(request);
    const running = this.coldByAddress.get(address) ?? 0;
    if (running >= this.options.coldPerAddress) {
      throw refusal({
        code: 'RATE_LIMITED',
        status: 429,
        message: `Too many API key verifications in progress from this address. Retry in 1 s.`,
        headers: { 'retry-after': '1' },
      });
    }
    this.coldByAddress.set(address, running + 1);
    return () => {
      const left = (this.coldByAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.coldByAddress.delete(address);
      else this.coldByAddress.set(address, left);
    };
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

  /** 429 before any lookup or hashing when this key id has failed too often. */
  private async throttle(request: FastifyRequest, publicId: string): Promise<void> {
    const failures = this.options.failures;
    if (!failures) return;
    for (const limiter of [failures.perAddressAndKey, failures.perKey]) {
      const state = await limiter.peek(request, publicId);
      if (!state.allowed) {
        throw rateLimited(
          limiter.rule,
          state,
          `Too many failed attempts with this API key id. Retry in ${Math.max(1, state.resetSeconds)} s.`,
        );
      }
    }
  }

  /**
   * Counts a failed request: per (address, key id) and per key id when a well-formed key was
   * sent, per address when none was (no credentials, malformed). Past the limit the answer is
   * 429 instead of 401. A key that verifies never reads these counters' refusals for other ids.
   */
  async countFailure(request: FastifyRequest, publicId?: string): Promise<void> {
    const failures = this.options.failures;
    if (!failures) return;
    const perAddress = await failures.perAddressAndKey.consume(request, publicId);
    const perKey = publicId ? await failures.perKey.consume(request, publicId) : perAddress;
    if (!perAddress.allowed) throw rateLimited(failures.perAddressAndKey.rule, perAddress);
    if (!perKey.allowed) throw rateLimited(failures.perKey.rule, perKey);
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
    const matches = (entry: { keyId: string; userId: string }) =>
      keyIds.has(entry.keyId) || userIds.has(entry.userId);
    for (const [digest, entry] of this.cache) if (matches(entry)) this.cache.delete(digest);
    for (const [digest, entry] of this.recentlyVerified) {
      if (matches(entry)) this.recentlyVerified.delete(digest);
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
