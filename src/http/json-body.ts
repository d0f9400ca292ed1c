import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies, parsed as Fastify does (prototype and constructor poisoning refused), except
 * that an empty body is `{}`: clients that always send `Content-Type: application/json` (the
 * reference's examples do) can call a route that takes no body (DELETE, GET, a revoke) or
 * whose fields are all optional. A route with required fields still answers 400 naming them.
 */
export function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) {
      done(null, {});
      return;
    }
    parseJson(request, String(body), done);
  });
}
