import fastifyRateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import { onCloseStep } from '../lifecycle.ts';
import { AppError } from './errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Redis connection that shares rate-limit counters (REDIS_URL), or null. */
    rateLimitRedis: Redis | null;
  }
}

/**
 * Rate limiting, built on @fastify/rate-limit's counters and stores (in-memory LRU per
 * process, or Redis shared by every instance when REDIS_URL is set). The plugin is registered
 * once at the root with `global: false`; each surface then attaches its own named limiter
 * with `rateLimitHook` / `perAddressRateLimit`, so a limit applies only where it is attached.
 *
 * Responses carry the IETF draft headers (draft-ietf-httpapi-ratelimit-headers, structured
 * field form), plus Retry-After on a 429:
 *   RateLimit-Policy: "api-key";q=600;w=60
 *   RateLimit: "api-key";r=599;t=42
 * If the store fails (Redis down) the request is let through: availability over exactness.
 */
export async function registerRateLimiting(app: FastifyInstance, config: Config): Promise<void> {
  let redis: Redis | null = null;
  if (config.REDIS_URL) {
    // Loaded only when configured: a process without Redis never pays for the client.
    const { Redis } = await import('ioredis');
    redis = new Redis(config.REDIS_URL, {
      lazyConnect: true,
      connectTimeout: 2_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    let warned = 0;
    redis.on('error', (err: Error) => {
      // One line per minute at most: a Redis outage must not flood the logs.
      if (Date.now() - warned > 60_000) {
        warned = Date.now();
        app.log.warn({ err: { message: err.message } }, 'rate-limit store (Redis) error');
      }
    });
    try {
      await redis.connect();
    } catch (err) {
      app.log.warn({ err }, 'rate-limit store (Redis) unreachable; limits fail open until it is');
    }
  }
  app.decorate('rateLimitRedis', redis);
  await app.register(fastifyRateLimit, {
    global: false,
    skipOnError: true,
    ...(redis ? { redis, nameSpace: 'monoid:rl:' } : {}),
  });
  if (redis) {
    const client = redis;
    onCloseStep(app, 'rate-limit Redis', () => client.quit().catch(() => undefined));
  }
}

/** The client address a per-address limit counts (IPv6 grouped by /64, as the plugin does). */
export function clientAddress(request: FastifyRequest): string {
  return normalizeIP(request.ip);
}

export interface RateLimitRule {
  /** Policy name shown in the headers and used to separate counters. */
  name: string;
  max: number;
  windowMs: number;
  /**
   * The counter a request belongs to (an API key id, an address, ...). `subject` is what the
   * caller passed to consume/peek (e.g. the public id of the key a request presented).
   */
  key: (request: FastifyRequest, subject?: string) => string;
}

export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window resets. */
  resetSeconds: number;
}

export interface Limiter {
  readonly rule: RateLimitRule;
  /** Counts the request and reports the state after counting. */
  consume(request: FastifyRequest, subject?: string): Promise<RateLimitState>;
  /** Reports the state without counting. */
  peek(request: FastifyRequest, subject?: string): Promise<RateLimitState>;
}

/** A named counter on the shared store. `scope` must see the root `registerRateLimiting`. */
export function createLimiter(scope: FastifyInstance, rule: RateLimitRule): Limiter {
  // The plugin's key generator only sees the request: the subject of the current check rides
  // beside it (checks are awaited one at a time per request, so it cannot be mixed up).
  const subjects = new WeakMap<FastifyRequest, string>();
  const check = scope.createRateLimit({
    max: rule.max,
    timeWindow: rule.windowMs,
    keyGenerator: (request) => `${rule.name}:${rule.key(request, subjects.get(request))}`,
    skipOnError: true,
  });
  const run = async (
    request: FastifyRequest,
    increment: boolean,
    subject: string | undefined,
  ): Promise<RateLimitState> => {
    if (subject === undefined) subjects.delete(request);
    else subjects.set(request, subject);
    const result = await check(request, { increment });
    if (result.isAllowed) {
      return { allowed: true, limit: rule.max, remaining: rule.max, resetSeconds: 0 };
    }
    const resetSeconds = Math.max(0, result.ttlInSeconds);
    const exceeded = increment ? result.isExceeded : result.remaining <= 0;
    return { allowed: !exceeded, limit: result.max, remaining: result.remaining, resetSeconds };
  };
  return {
    rule,
    consume: (request, subject) => run(request, true, subject),
    peek: (request, subject) => run(request, false, subject),
  };
}

export function setRateLimitHeaders(
  reply: FastifyReply,
  rule: RateLimitRule,
  state: RateLimitState,
): void {
  reply.header('ratelimit-policy', policyHeader(rule));
  reply.header('ratelimit', `"${rule.name}";r=${state.remaining};t=${state.resetSeconds}`);
}

function policyHeader(rule: RateLimitRule): string {
  return `"${rule.name}";q=${rule.max};w=${Math.max(1, Math.round(rule.windowMs / 1000))}`;
}

/**
 * Builds an AppError without capturing a stack trace. For expected refusals (401, 403, 429)
 * that a flood can trigger thousands of times a second, the stack is useless and its capture
 * is the most expensive part of the refusal.
 */
export function refusal(options: ConstructorParameters<typeof AppError>[0]): AppError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new AppError(options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The 429 of the contract: RATE_LIMITED, Retry-After and the RateLimit headers. */
export function rateLimited(rule: RateLimitRule, state: RateLimitState, detail?: string): AppError {
  const retryAfter = Math.max(1, state.resetSeconds);
  return refusal({
    code: 'RATE_LIMITED',
    status: 429,
    message:
      detail ??
      `Rate limit exceeded (${rule.max} requests per ${Math.round(rule.windowMs / 1000)} s). Retry in ${retryAfter} s.`,
    headers: {
      'retry-after': String(retryAfter),
      'ratelimit-policy': policyHeader(rule),
      ratelimit: `"${rule.name}";r=0;t=${retryAfter}`,
    },
  });
}

/** An onRequest/preHandler hook enforcing `rule` and setting the headers on every response. */
export function rateLimitHook(
  scope: FastifyInstance,
  rule: RateLimitRule,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const limiter = createLimiter(scope, rule);
  return async (request, reply) => {
    const state = await limiter.consume(request);
    if (!state.allowed) throw rateLimited(rule, state);
    setRateLimitHeaders(reply, rule, state);
  };
}

/**
 * Limits every request of `scope` per client address. For the lead's webhook scopes and the
 * settings scope, e.g. `perAddressRateLimit(webhooks, { name: 'webhooks', max: config.WEBHOOK_RATE_LIMIT_PER_MINUTE })`.
 * Call it inside the encapsulated scope, before its routes.
 */
export function perAddressRateLimit(
  scope: FastifyInstance,
  options: { name: string; max: number; windowMs?: number },
): void {
  scope.addHook(
    'onRequest',
    rateLimitHook(scope, {
      name: options.name,
      max: options.max,
      windowMs: options.windowMs ?? 60_000,
      key: clientAddress,
    }),
  );
}
