import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Scope } from '../../http/auth-context.ts';
import { sendProblem } from '../../http/error-handler.ts';
import { AppError } from '../../http/errors.ts';
import {
  clientAddress,
  createLimiter,
  rateLimited,
  setRateLimitHeaders,
} from '../../http/rate-limit.ts';
import type { VerifiedKey } from './api-key.verifier.ts';
import { insufficientScope, missingCredentials } from './api-keys.errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set with `principal` on /api/v1: the verified key's name and expiry (for /me). */
    apiKeyDetails: VerifiedKey | null;
  }
}

/** The scope a method needs (contract §2): reads, writes, deletes. */
export function scopeForMethod(method: string): Scope {
  switch (method) {
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
      return 'read';
    case 'DELETE':
      return 'delete';
    default:
      return 'write';
  }
}

/** The token of `Authorization: Bearer <token>`; undefined when no bearer credentials were sent. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer(?:\s+(.*))?$/i.exec(header.trim());
  if (!match) return undefined;
  return (match[1] ?? '').trim();
}

/**
 * API-key authentication for the enclosing scope (/api/v1), as one onRequest hook, so that
 * nothing (not even the body) is read for an unauthenticated request:
 *   1. credentials: none → 401 bare challenge; bad format/checksum/id/secret → 401
 *      invalid_token; revoked/expired → 401 API_KEY_REVOKED / API_KEY_EXPIRED; too many
 *      failures from the address → 429 (counted per address, before any hashing);
 *   2. the per-key rate limit (RateLimit headers on every response, 429 past it);
 *   3. the scope the method needs → 403 INSUFFICIENT_SCOPE.
 * Sets `request.principal` (http/auth-context.ts) for the routes.
 */
export const apiKeyAuth = fp(
  async (scope: FastifyInstance) => {
    const { verifier } = scope.apiKeys;
    const perKey = createLimiter(scope, {
      name: 'api-key',
      max: scope.config.API_RATE_LIMIT_PER_MINUTE,
      windowMs: 60_000,
      key: (request: FastifyRequest) =>
        request.principal?.keyId ?? `addr:${clientAddress(request)}`,
    });
    scope.decorateRequest('apiKeyDetails', null);

    const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      const token = bearerToken(request.headers.authorization);
      if (token === undefined) {
        await verifier.countFailure(request);
        throw missingCredentials();
      }
      const key = await verifier.authenticate(request, token);
      request.principal = {
        keyId: key.keyId,
        userId: key.userId,
        scopes: key.scopes,
        workspaceId: key.workspaceId,
      };
      request.apiKeyDetails = key;

      const state = await perKey.consume(request);
      if (!state.allowed) throw rateLimited(perKey.rule, state);
      setRateLimitHeaders(reply, perKey.rule, state);

      const needed = scopeForMethod(request.method);
      if (!key.scopes.includes(needed)) throw insufficientScope(needed);
    };

    scope.addHook('onRequest', async (request, reply) => {
      try {
        await authenticate(request, reply);
      } catch (err) {
        // Refusals are answered here, not through Fastify's error path: a flood of bad keys
        // then costs as little as possible. Anything unexpected still goes to the handler.
        if (!(err instanceof AppError)) throw err;
        sendProblem(request, reply, err);
        return reply;
      }
    });
  },
  { name: 'api-key-auth', dependencies: ['api-keys'] },
);
