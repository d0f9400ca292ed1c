import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from '../config.ts';
import { redactUrl } from './redact-url.ts';

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

/**
 * A failed query's error carries its parameters (drizzle: `params` and "params: ..." in the
 * message), and a Postgres data exception quotes the offending value; either may be anything a
 * client sent. Errors are logged without them (security finding 5): type, code, message and
 * stack with the parameters and quoted values cut, and the same for causes.
 */
export function loggableError(
  err: Error,
  depth = 0,
): { [key: string]: unknown; type: string; message: string; stack: string } {
  const withoutParams = (text: string) =>
    text.replace(/\nparams: [\s\S]*?(?=\n {4}at |$)/, '\nparams: [Redacted]');
  // Anything may be logged under `err` (plain objects too, with any field types).
  const {
    code,
    name,
    message: rawMessage,
    stack: rawStack,
  } = err as Partial<Error> & {
    code?: unknown;
  };
  const text = typeof rawMessage === 'string' ? rawMessage : String(rawMessage ?? '');
  // Postgres data exceptions (class 22) quote the offending value after a colon.
  const dataException = typeof code === 'string' && code.startsWith('22');
  const message = dataException ? `${text.split(':')[0]}: [Redacted]` : text;
  return {
    type: typeof name === 'string' ? name : 'Error',
    message: withoutParams(message),
    stack: dataException || typeof rawStack !== 'string' ? '' : withoutParams(rawStack),
    ...(code !== undefined ? { code } : {}),
    ...(err.cause instanceof Error && depth < 5
      ? { cause: loggableError(err.cause, depth + 1) }
      : {}),
  };
}

const censored = new Set<string>(redactedHeaders);

function censorHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers))
    copy[name] = censored.has(name.toLowerCase()) ? '[Redacted]' : value;
  return copy;
}

type PrettyFactory = (options: Record<string, unknown>) => Writable;

/**
 * Readable lines for a person at a terminal: pino-pretty (a development dependency) when it is
 * installed, stdout is a TTY and NODE_ENV is not production; JSON lines otherwise. It runs in
 * this thread (`sync`), not as a pino transport: a transport's worker thread is one more thing
 * that can hold the process open at exit.
 */
function terminalStream(config: Config): Writable | undefined {
  if (config.NODE_ENV === 'production' || !process.stdout.isTTY) return undefined;
  try {
    const pretty = createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
    return pretty({
      sync: true,
      colorize: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
  } catch {
    return undefined; // a production install has no pino-pretty
  }
}

export function loggerOptions(
  config: Config,
  stream?: Writable,
): NonNullable<FastifyServerOptions['logger']> {
  const destination = stream ?? terminalStream(config);
  return {
    level: config.LOG_LEVEL,
    ...(destination ? { stream: destination } : {}),
    redact: {
      // Credential headers are censored by the `req` serializer (a copy, per line), not by a
      // redaction path each: paths are evaluated on every line, and request lines are the most.
      paths: ['key', '*.key', 'token', '*.token', 'secret', '*.secret'],
      censor: '[Redacted]',
    },
    serializers: {
      err: loggableError,
      req(request: {
        method: string;
        url: string;
        headers: Record<string, unknown>;
        ip?: string;
        id?: string;
      }) {
        return {
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
          headers: censorHeaders(request.headers),
        };
      },
    },
  };
}

/**
 * One log line per request, written when the response is sent: the request (method, redacted
 * URL, address, redacted headers), the status and the time taken. Fastify's own request
 * logging (a line on arrival and another on completion) is turned off in `app.ts`.
 */
export function registerRequestLogging(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { req: request, res: reply, responseTime: reply.elapsedTime },
      'request completed',
    );
    done();
  });
}
