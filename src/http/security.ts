import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { Config } from '../config.ts';

/**
 * Security headers on every response (helmet's). The API answers JSON, so a strict CSP costs
 * nothing; the /docs page (Scalar) needs its own inline script and style:
 * `docsContentSecurityPolicy` is set for that scope only (http/openapi.ts).
 */
export const docsContentSecurityPolicy =
  "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export const securityHeaderOptions: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'none'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
  hsts: { maxAge: 31_536_000, includeSubDomains: true },
};

/**
 * The headers helmet sets with `securityHeaderOptions`, computed once. They depend on nothing
 * in the request, so running helmet's middleware per request (as @fastify/helmet does: it
 * rebuilds the middleware, CSP parsing included, on every request) only repeats this.
 */
export function staticSecurityHeaders(options: HelmetOptions = securityHeaderOptions) {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  return Object.entries(headers);
}

/**
 * What every response carries from the start: `X-Request-Id` and the security headers, in one
 * synchronous hook (each hook, and each async one even more, costs on every request).
 */
export function registerResponseHeaders(app: FastifyInstance): void {
  const security = staticSecurityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of security) reply.header(name, value);
    done();
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
