import type { Writable } from 'node:stream';
import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../config.ts';

/** Headers that carry credentials or signatures; never written to a log line. */
export const redactedHeaders = [
  'authorization',
  'cookie',
  'set-cookie',
  'svix-signature',
  'linear-signature',
  'x-notion-signature',
  'x-api-key',
] as const;

export function loggerOptions(
  config: Config,
  stream?: Writable,
): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: config.LOG_LEVEL,
    ...(stream ? { stream } : {}),
    redact: {
      paths: [
        ...redactedHeaders.map((h) => `req.headers["${h}"]`),
        ...redactedHeaders.map((h) => `res.headers["${h}"]`),
        'key',
        '*.key',
        'token',
        '*.token',
        'secret',
        '*.secret',
      ],
      censor: '[Redacted]',
    },
    serializers: {
      req(request: {
        method: string;
        url: string;
        headers: Record<string, unknown>;
        ip?: string;
        id?: string;
      }) {
        return {
          method: request.method,
          url: request.url,
          remoteAddress: request.ip,
          headers: request.headers,
        };
      },
    },
  };
}
