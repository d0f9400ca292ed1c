import type { FastifyInstance, preValidationHookHandler } from 'fastify';
import { validationError } from './errors.ts';

/** The first path (`body.a.0.b`) whose key or string value contains a NUL character. */
export function findNul(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const itemPath = `${path}.${key}`;
    if (key.includes('\u0000')) return itemPath;
    const found = findNul(item, itemPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Postgres text and jsonb cannot hold NUL (U+0000): a request carrying one in its body, declared
 * query or path would fail in the database (a 500, with the query's parameters in the error). Every
 * route therefore refuses it first with a 400 naming the field (security finding 5). Raw-body
 * scopes (webhooks) keep their bytes: their handlers parse and validate after verification.
 *
 * The check is attached per route, and only where there is something to check (path
 * parameters, a declared query, a method whose body Fastify parses): a GET of a fixed path
 * (`/healthz`, `/api/v1/me`) runs no hook for it. A query parameter the route does not declare
 * is never read (nor documented as a 400), so only routes with a query schema check the query.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hasParams = route.url.includes(':') || route.url.includes('*');
    const checksQuery = Boolean(route.schema?.querystring);
    const mayHaveBody = methods.some((m) => m !== 'GET' && m !== 'HEAD');
    if (!hasParams && !checksQuery && !mayHaveBody) return;
    const guard: preValidationHookHandler = (request, _reply, done) => {
      const path =
        (hasParams ? findNul(request.params, 'params') : undefined) ??
        (checksQuery ? findNul(request.query, 'query') : undefined) ??
        findNul(request.body, 'body');
      if (!path) return done();
      done(
        validationError(`Invalid request: ${path} must not contain NUL characters`, [
          { path, message: 'must not contain NUL characters' },
        ]),
      );
    };
    const existing = route.preValidation;
    route.preValidation = [
      guard,
      ...(Array.isArray(existing) ? existing : existing ? [existing] : []),
    ];
  });
}
