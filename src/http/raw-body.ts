import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received, set in raw-body scopes (webhooks) only. */
    rawBody?: Buffer;
  }
}

/**
 * Makes the enclosing (encapsulated) scope keep request bodies as the exact bytes received.
 * Signatures (Svix, Linear, Notion) are computed over those bytes; parsing and re-serialising
 * JSON would change them. `request.body` is the same Buffer; handlers parse it themselves
 * after verification, so unverified input is never interpreted.
 */
export function useRawBody(scope: FastifyInstance, options: { bodyLimit?: number } = {}): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    '*',
    { parseAs: 'buffer', ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) },
    (request, body, done) => {
      request.rawBody = body as Buffer;
      done(null, body);
    },
  );
}

/** Parses verified raw bytes as a JSON object; undefined when they are not one. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
