import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, conflict } from '../../http/errors.ts';
import {
  claimKey,
  completeKey,
  deleteExpiredKeys,
  findKey,
  releaseKey,
} from './idempotency.repository.ts';

const HOUR_MS = 3_600_000;
/** An in-flight record older than this belongs to a request that died; it may be reclaimed. */
const STALE_IN_FLIGHT_MS = 60_000;

interface Pending {
  apiKeyId: string;
  key: string;
}

/** Stable JSON (sorted keys) so that the same body with another key order is the same body. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * `Idempotency-Key` for every POST of the scope this is registered in (contract §2): the first
 * request claims the key (per API key) and its response is stored; a retry with the same key
 * and body replays it; another body is a 422; a retry while the first still runs is a 409.
 * 5xx responses release the key so that the client can retry. Records live `ttlHours`.
 */
export function registerIdempotency(app: FastifyInstance, options: { ttlHours: number }): void {
  const db = app.database.db;
  const ttlMs = options.ttlHours * HOUR_MS;
  const hashes = new WeakMap<FastifyRequest, string>();
  const pending = new WeakMap<FastifyRequest, Pending>();
  const replayed = new WeakSet<FastifyRequest>();

  // The hash is taken over the body as sent (before validation strips unknown fields).
  const preValidation = async (request: FastifyRequest) => {
    if (request.headers['idempotency-key'] === undefined) return;
    const path = request.url.split('?')[0] ?? '';
    hashes.set(
      request,
      createHash('sha256')
        .update(`${request.method} ${path}\n${canonicalJson(request.body ?? null)}`)
        .digest('hex'),
    );
  };

  const preHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const requestHash = hashes.get(request);
    const header = request.headers['idempotency-key'];
    const principal = request.principal;
    if (!requestHash || typeof header !== 'string' || !principal) return;
    const key = header;
    const now = Date.now();
    const claimed = await claimKey(db, {
      apiKeyId: principal.keyId,
      key,
      requestHash,
      now,
      expiresAt: now + ttlMs,
      staleBefore: now - STALE_IN_FLIGHT_MS,
    });
    if (claimed) {
      pending.set(request, { apiKeyId: principal.keyId, key });
      return;
    }
    const existing = await findKey(db, { apiKeyId: principal.keyId, key });
    if (!existing) {
      // Released between our claim and read (the first attempt failed with a 5xx): retry.
      throw new AppError({
        code: 'CONFLICT',
        status: 409,
        message: 'A request with this Idempotency-Key is being processed. Retry shortly.',
        headers: { 'retry-after': '1' },
      });
    }
    if (existing.requestHash !== requestHash) {
      throw new AppError({
        code: 'IDEMPOTENCY_KEY_REUSED',
        status: 422,
        message: 'This Idempotency-Key was already used with a different request body or path.',
      });
    }
    if (existing.state !== 'completed' || existing.responseStatus === null) {
      const err = conflict('A request with this Idempotency-Key is still being processed.');
      err.headers['retry-after'] = '1';
      throw err;
    }
    replayed.add(request);
    reply
      .code(existing.responseStatus)
      .header('idempotent-replayed', 'true')
      .header('content-type', existing.responseType ?? 'application/json; charset=utf-8');
    return reply.send(existing.responseBody ?? '');
  };

  const onSend = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = pending.get(request);
    if (!claim || replayed.has(request)) return payload;
    pending.delete(request);
    if (reply.statusCode >= 500 || typeof payload !== 'string') {
      await releaseKey(db, claim).catch((err) =>
        request.log.warn({ err }, 'could not release idempotency key'),
      );
      return payload;
    }
    const type = reply.getHeader('content-type');
    await completeKey(db, {
      ...claim,
      status: reply.statusCode,
      body: payload,
      type: typeof type === 'string' ? type : null,
    });
    return payload;
  };

  // Route-level hooks on POST routes only: the scope's GET, PATCH and DELETE requests do not
  // run three hooks that would return at once.
  app.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST')) return;
    const append = <T>(existing: T | T[] | undefined, hook: T): T[] => [
      ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
      hook,
    ];
    route.preValidation = append(route.preValidation, preValidation as never);
    route.preHandler = append(route.preHandler, preHandler as never);
    route.onSend = append(route.onSend, onSend as never);
  });

  // Expired records are purged hourly (they are also reclaimed on reuse).
  const timer = setInterval(() => {
    deleteExpiredKeys(db, Date.now()).catch((err) =>
      app.log.warn({ err }, 'idempotency key cleanup failed'),
    );
  }, HOUR_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}
