import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';

/**
 * Security headers on every response. The API answers JSON, so a strict CSP costs nothing;
 * the /docs page (Scalar) needs its own inline script and style: `docsContentSecurityPolicy`
 * is set for that scope only (http/openapi.ts), not checked on every response.
 */
export const docsContentSecurityPolicy =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });
}

/**
 * CORS for the settings API only: the browser UI at the configured origins may call it with
 * credentials. `/api/v1` is for scripts (no browser access), and webhooks are server to server.
 */
export async function registerSettingsCors(scope: FastifyInstance, config: Config): Promise<void> {
  const allowed = new Set(config.CORS_ORIGINS);
  await scope.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'retry-after', 'ratelimit', 'ratelimit-policy'],
    maxAge: 600,
  });
}

/**
 * Fastify's `trustProxy` for TRUST_PROXY (config.ts parses it). A hop count becomes the
 * function proxy-addr builds for one (Fastify's types have no number form).
 */
export function trustedProxies(
  setting: false | number | string[],
): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting !== 'number') return setting;
  return (_address, hop) => hop < setting;
}

/**
 * Server options that bound slow and idle clients (HTTP_* in config.ts). Node checks the
 * header and request timeouts every `connectionsCheckingInterval` (30 s by default, which is
 * how a slow client used to last ~47 s); here every second. The headers timeout cannot exceed
 * the request timeout (Node's rule).
 */
export function httpLimits(config: Config) {
  const requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(config.HTTP_HEADERS_TIMEOUT_MS, requestTimeout);
  return {
    requestTimeout,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: config.HTTP_MAX_REQUESTS_PER_SOCKET,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval: 1_000 },
  };
}
