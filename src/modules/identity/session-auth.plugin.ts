import { clerkPlugin, getAuth } from '@clerk/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../../config.ts';
import { clerkNotConfigured, sessionUnauthorized } from './identity.errors.ts';
import { resolveSessionUser } from './identity.service.ts';

/** The variables session auth needs; empty when it can run. */
export function missingSessionAuthConfig(config: Config): string[] {
  const missing: string[] = [];
  if (!config.CLERK_SECRET_KEY) missing.push('CLERK_SECRET_KEY');
  if (!config.CLERK_PUBLISHABLE_KEY) missing.push('CLERK_PUBLISHABLE_KEY');
  return missing;
}

// Clerk's SDK would fall back to the Frontend API host of the publishable key; a URL that
// can never answer keeps it from reaching the network when only the PEM key should be used.
const unreachableApiUrl = 'http://127.0.0.1:9';

function apiUrlOption(config: Config): { apiUrl?: string } {
  if (config.CLERK_API_URL) return { apiUrl: config.CLERK_API_URL };
  return config.CLERK_JWT_KEY ? { apiUrl: unreachableApiUrl } : {};
}

function hasCredentials(request: FastifyRequest): boolean {
  if (request.headers.authorization) return true;
  return /(?:^|;\s*)__session=/.test(request.headers.cookie ?? '');
}

const jwtShape = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Rejects an Authorization header that cannot hold a session JWT before Clerk sees it. Clerk
 * would otherwise treat opaque tokens (`ak_`, `mt_`, `oat_`) as machine tokens and verify them
 * with a request to its API: a stranger could make us call Clerk at will.
 */
function malformedAuthorization(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) return 'The Authorization header must be "Bearer <Clerk session token>".';
  if (match[1].startsWith('mo_')) {
    return 'API keys cannot call the settings API; use a Clerk session token.';
  }
  if (!jwtShape.test(match[1])) return 'The session token is invalid.';
  return undefined;
}

/** Human description of why Clerk rejected a token; never echoes the token itself. */
function describeRejection(reason: string | undefined): string {
  const r = reason ?? '';
  if (r.includes('token-expired')) return 'The session token has expired.';
  if (r.includes('not-active-yet') || r.includes('nbf') || r.includes('iat-in-the-future')) {
    return 'The session token is not valid yet.';
  }
  if (r === 'token-invalid-authorized-parties') {
    return 'The session token was issued for an origin this server does not accept (azp).';
  }
  if (r === 'token-invalid-signature') return 'The session token signature is invalid.';
  if (r === 'token-type-mismatch') return 'Only Clerk session tokens are accepted here.';
  if (r === 'session-token-but-no-client-uat' || r === 'dev-browser-missing') {
    return 'The __session cookie is incomplete (Clerk also sets __client_uat, and __clerk_db_jwt on development instances).';
  }
  return 'The session token is invalid.';
}

function rejectionReason(request: FastifyRequest): string | undefined {
  const auth = (request as { auth?: { debug?: () => Record<string, unknown> } }).auth;
  const reason = auth?.debug?.().reason;
  return typeof reason === 'string' ? reason : undefined;
}

/**
 * Clerk session authentication for the enclosing scope (`/api/settings`). Wrapped with
 * fastify-plugin so its hooks apply to the scope that registers it, and to nothing else:
 * register it inside the settings scope only.
 *
 * Everything comes from our Config, never from process.env (which @clerk/fastify would read
 * at import time). Tokens come from `Authorization: Bearer` or the `__session` cookie and are
 * verified offline when CLERK_JWT_KEY is set; `azp` is checked against
 * CLERK_AUTHORIZED_PARTIES when set. On success `request.sessionUser` is set; otherwise the
 * request ends with 401 (or 403 when the token names an organisation the user has left).
 */
export const sessionAuth = fp(
  async function sessionAuth(scope: FastifyInstance) {
    const config = scope.config;
    const missing = missingSessionAuthConfig(config);
    if (missing.length > 0 || !config.CLERK_SECRET_KEY || !config.CLERK_PUBLISHABLE_KEY) {
      scope.addHook('onRequest', async () => {
        throw clerkNotConfigured(missing);
      });
      return;
    }

    scope.addHook('onRequest', async (request) => {
      const problem = malformedAuthorization(request);
      if (problem) throw sessionUnauthorized(problem);
      // With a `__refresh` cookie, Clerk would refresh an expired cookie token by calling its
      // Frontend API. This API never does: an expired token is a 401 and the frontend renews it.
      const cookie = request.headers.cookie;
      if (cookie?.includes('__refresh')) {
        request.headers.cookie = cookie
          .split(';')
          .filter((part) => !part.trim().startsWith('__refresh'))
          .join(';');
      }
    });
    await scope.register(clerkPlugin, {
      hookName: 'onRequest',
      secretKey: config.CLERK_SECRET_KEY,
      publishableKey: config.CLERK_PUBLISHABLE_KEY,
      ...apiUrlOption(config),
      ...(config.CLERK_JWT_KEY ? { jwtKey: config.CLERK_JWT_KEY } : {}),
      ...(config.CLERK_AUTHORIZED_PARTIES?.length
        ? { authorizedParties: config.CLERK_AUTHORIZED_PARTIES }
        : {}),
      // A pure API: never answer with a handshake redirect (it needs Set-Cookie on the app's
      // own domain). An expired cookie token is a 401 and the frontend refreshes it.
      __internal_enableHandshake: false,
      // No outbound traffic besides what verification needs (none with CLERK_JWT_KEY).
      telemetry: { disabled: true },
    });

    scope.addHook('onRequest', async (request, reply) => {
      // Clerk's debug message can quote token details; the problem body explains instead.
      reply.removeHeader('x-clerk-auth-message');
      const auth = getAuth(request, { acceptsToken: 'session_token' });
      if (!auth.isAuthenticated || !auth.userId) {
        if (!hasCredentials(request)) throw sessionUnauthorized();
        throw sessionUnauthorized(describeRejection(rejectionReason(request)));
      }
      const claims = auth.sessionClaims;
      request.sessionUser = await resolveSessionUser(scope.database.db, {
        clerkUserId: auth.userId,
        sessionId: auth.sessionId ?? null,
        issuedAt: typeof claims?.iat === 'number' ? claims.iat : null,
        orgClerkId: auth.orgId ?? null,
        orgRole: auth.orgRole ?? null,
        orgSlug: auth.orgSlug ?? null,
      });
    });
  },
  { name: 'monoid-session-auth', fastify: '5.x' },
);
