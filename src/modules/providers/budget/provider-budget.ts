import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Db } from '../../../db/database.ts';
import { BudgetExhausted } from '../../integrations/connection-errors.ts';
import type { Clock } from './clock.ts';

/**
 * A call budget shared by every process and instance: per key (one provider connection), the
 * earliest time its next call may start. Two operations cover both providers:
 * - `reserve(key, spacingMs)`: takes the next slot (now, or later when the key is blocked or
 *   paced) and moves the key's next slot `spacingMs` after it. Notion's 3 requests/second is
 *   `spacingMs = 334`; Linear uses 0 (no pacing, only the blocks below).
 * - `blockUntil(key, at)`: no call before `at` (a provider's rate-limit reset); a block never
 *   moves an existing later one earlier.
 * The store is Redis when `REDIS_URL` is set (a Lua script, atomic), else Postgres (one
 * `INSERT ... ON CONFLICT DO UPDATE`, atomic under the row lock). Times are epoch ms of the
 * caller's clock.
 */
export interface BudgetStore {
  reserve(key: string, spacingMs: number, now: number): Promise<number>;
  blockUntil(key: string, untilMs: number): Promise<void>;
  close(): Promise<void>;
}

export class PostgresBudgetStore implements BudgetStore {
  constructor(private readonly db: Db) {}

  async reserve(key: string, spacingMs: number, now: number): Promise<number> {
    // No pacing (Linear): only a block can delay the call, so a read is enough (no write).
    if (spacingMs <= 0) {
      const blocked = await this.db.execute(sql`
        select (extract(epoch from next_at) * 1000)::float8 as at
        from provider_budgets where key = ${key}`);
      const row = (blocked as unknown as { rows: Array<{ at: string | number }> }).rows[0];
      return Math.max(now, Math.round(Number(row?.at ?? now)));
    }
    const result = await this.db.execute<{ at: string }>(sql`
      insert into provider_budgets as b (key, next_at)
      values (${key}, to_timestamp(${(now + spacingMs) / 1000}::double precision))
      on conflict (key) do update
        set next_at = greatest(b.next_at, to_timestamp(${now / 1000}::double precision))
                      + make_interval(secs => ${spacingMs / 1000}::double precision),
            updated_at = now()
      returning (extract(epoch from next_at) * 1000)::float8 - ${spacingMs}::float8 as at`);
    const row = (result as unknown as { rows: Array<{ at: string | number }> }).rows[0];
    return Math.max(now, Math.round(Number(row?.at ?? now)));
  }

  async blockUntil(key: string, untilMs: number): Promise<void> {
    await this.db.execute(sql`
      insert into provider_budgets as b (key, next_at)
      values (${key}, to_timestamp(${untilMs / 1000}::double precision))
      on conflict (key) do update
        set next_at = greatest(b.next_at, excluded.next_at), updated_at = now()`);
  }

  async close(): Promise<void> {}
}

// KEYS[1] = key; ARGV = now, spacing. Returns the reserved slot.
const RESERVE_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local at = math.max(cur, now)
local nxt = at + tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(nxt), 'PX', math.floor(nxt - now + 3600000))
return tostring(at)`;

// KEYS[1] = key; ARGV = until, now.
const BLOCK_SCRIPT = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if untilMs > cur then
  redis.call('SET', KEYS[1], tostring(untilMs), 'PX', math.floor(math.max(untilMs - tonumber(ARGV[2]), 0) + 3600000))
end
return 1`;

/**
 * Redis store (keys `<prefix><key>`, expiring an hour after their slot). When Redis fails,
 * the call falls back to Postgres, so a Redis outage slows nothing down and loses no block
 * for long (the two stores may disagree for the outage's duration; both only delay calls).
 */
export class RedisBudgetStore implements BudgetStore {
  /** The client module is loaded only when a Redis store exists (`createBudgetStore`). */
  readonly #redis: Promise<Redis>;
  #warnedAt = 0;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly fallback: BudgetStore,
    private readonly log: FastifyBaseLogger,
  ) {
    this.#redis = import('ioredis').then(({ Redis }) => {
      const redis = new Redis(url, {
        lazyConnect: false,
        connectTimeout: 2_000,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: true,
      });
      redis.on('error', (err: Error) => this.#warn(err));
      return redis;
    });
  }

  #warn(err: Error): void {
    if (Date.now() - this.#warnedAt < 60_000) return;
    this.#warnedAt = Date.now();
    this.log.warn({ err: { message: err.message } }, 'provider budget store (Redis) error');
  }

  async reserve(key: string, spacingMs: number, now: number): Promise<number> {
    try {
      if (spacingMs <= 0) {
        const blocked = await (await this.#redis).get(this.prefix + key);
        return Math.max(now, Math.round(Number(blocked ?? now)));
      }
      const at = await (await this.#redis).eval(
        RESERVE_SCRIPT,
        1,
        this.prefix + key,
        String(now),
        String(spacingMs),
      );
      return Math.max(now, Math.round(Number(at)));
    } catch (err) {
      this.#warn(err as Error);
      return this.fallback.reserve(key, spacingMs, now);
    }
  }

  async blockUntil(key: string, untilMs: number): Promise<void> {
    try {
      await (await this.#redis).eval(
        BLOCK_SCRIPT,
        1,
        this.prefix + key,
        String(untilMs),
        String(Date.now()),
      );
    } catch (err) {
      this.#warn(err as Error);
      await this.fallback.blockUntil(key, untilMs);
    }
  }

  async close(): Promise<void> {
    await (await this.#redis).quit().catch(() => undefined);
  }
}

export function createBudgetStore(input: {
  db: Db;
  redisUrl: string | undefined;
  /** Key prefix in Redis (tests use their own). */
  redisPrefix?: string;
  log: FastifyBaseLogger;
}): BudgetStore {
  const postgres = new PostgresBudgetStore(input.db);
  return input.redisUrl
    ? new RedisBudgetStore(
        input.redisUrl,
        input.redisPrefix ?? 'monoid:budget:',
        postgres,
        input.log,
      )
    : postgres;
}

/**
 * Waits for the key's next slot (see `BudgetStore.reserve`), plus up to `jitterMs` when it
 * had to wait, so that callers released by the same reset do not all call at once.
 */
export async function takeTurn(
  store: BudgetStore,
  clock: Clock,
  key: string,
  options: { spacingMs?: number; jitterMs?: number; maxWaitMs?: number } = {},
): Promise<number> {
  const now = clock.now();
  const at = await store.reserve(key, options.spacingMs ?? 0, now);
  if (at <= now) return 0;
  if (options.maxWaitMs !== undefined && at - now > options.maxWaitMs)
    throw new BudgetExhausted(key, at);
  const wait = at - now + (options.jitterMs ? Math.random() * options.jitterMs : 0);
  await clock.sleep(wait);
  return wait;
}
