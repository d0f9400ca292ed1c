import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import findMyWay from 'find-my-way';
import { AppError, type ErrorCode, type FieldError, problemBody } from './errors.ts';

const codeForStatus: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'BAD_REQUEST',
  406: 'BAD_REQUEST',
  409: 'CONFLICT',
  411: 'BAD_REQUEST',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'BAD_REQUEST',
  415: 'BAD_REQUEST',
  422: 'VALIDATION_ERROR',
  429: 'RATE_LIMITED',
  431: 'BAD_REQUEST',
  503: 'SERVICE_UNAVAILABLE',
};

// Connection-level failures: Postgres restarting, unreachable or out of connections.
// These are the server's temporary trouble, not a bug, so they answer 503, never 500.
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
]);

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = err;
  while (current && chain.length < 6) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function pgCode(err: unknown): string | undefined {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('FST_')) return code;
  }
  return undefined;
}

export function isDatabaseUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && unavailableCodes.has(code)) return true;
    const message = (e as { message?: unknown }).message;
    if (
      typeof message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|database is closed|PGlite is closed|Cannot use a pool after calling end/i.test(
        message,
      )
    )
      return true;
  }
  return false;
}

interface Rendered {
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  log: 'none' | 'warn' | 'error';
}

function render(err: unknown): Rendered {
  if (err instanceof AppError) {
    return {
      status: err.status,
      code: err.code,
      detail: err.expose ? err.message : 'An unexpected error occurred.',
      ...(err.errors ? { errors: err.errors } : {}),
      headers: err.headers,
      log: err.status >= 500 ? 'error' : 'none',
    };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    const context = (err as { validationContext?: string }).validationContext ?? 'body';
    const prefix = context === 'querystring' ? 'query' : context;
    const errors = err.validation.map((v) => {
      const path = v.instancePath.split('/').filter(Boolean).join('.');
      return { path: path ? `${prefix}.${path}` : prefix, message: v.message ?? 'is invalid' };
    });
    const first = errors[0];
    return {
      status: 400,
      code: 'VALIDATION_ERROR',
      detail: first ? `Invalid request: ${first.path} ${first.message}` : 'Invalid request',
      errors,
      log: 'none',
    };
  }
  if (isResponseSerializationError(err)) {
    return { status: 500, code: 'INTERNAL', detail: 'An unexpected error occurred.', log: 'error' };
  }
  if (isDatabaseUnavailable(err)) {
    return {
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      detail: 'The database is temporarily unavailable. Retry shortly.',
      headers: { 'retry-after': '1' },
      log: 'warn',
    };
  }
  const pg = pgCode(err);
  // Safety nets: a constraint the service layer did not anticipate is still the client's
  // conflict or bad input, not a server crash.
  if (pg === '23505')
    return { status: 409, code: 'CONFLICT', detail: 'The item already exists.', log: 'warn' };
  if (pg === '23503')
    return {
      status: 409,
      code: 'CONFLICT',
      detail: 'The item is referenced by, or references, another item.',
      log: 'warn',
    };
  if (['22P02', '22P05', '22007', '22008', '22003', '22021'].includes(pg ?? ''))
    return { status: 400, code: 'BAD_REQUEST', detail: 'A value is malformed.', log: 'warn' };

  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = codeForStatus[status] ?? 'BAD_REQUEST';
    let detail = fastifyError.message ?? 'Bad request';
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      detail = 'The request body is not valid JSON.';
    } else if (status === 413) {
      detail = 'The request body is too large.';
    }
    return { status, code, detail, log: 'none' };
  }
  return { status: 500, code: 'INTERNAL', detail: 'An unexpected error occurred.', log: 'error' };
}

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
): FastifyReply {
  const rendered = render(err);
  request.problemCode = rendered.code;
  if (rendered.log === 'error') request.log.error({ err }, 'request failed');
  else if (rendered.log === 'warn') request.log.warn({ err }, 'request failed');
  for (const [name, value] of Object.entries(rendered.headers ?? {})) reply.header(name, value);
  return reply
    .code(rendered.status)
    .type('application/problem+json; charset=utf-8')
    .send(
      problemBody({
        code: rendered.code,
        status: rendered.status,
        detail: rendered.detail,
        requestId: String(request.id),
        errors: rendered.errors,
      }),
    );
}

/**
 * Which methods each known path answers, for 405 + `Allow`: a second router holding every
 * route's pattern (collected by an onRoute hook), consulted only when Fastify's own router has
 * no route for the method. CORS's `OPTIONS` catch-all does not make a path known.
 */
function methodIndex(app: FastifyInstance): (path: string) => string[] {
  const router = findMyWay();
  const byPattern = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map(String);
    if (route.url.endsWith('*') && methods.every((m) => m === 'OPTIONS')) return;
    let known = byPattern.get(route.url);
    if (!known) {
      known = new Set();
      byPattern.set(route.url, known);
      router.on('GET', route.url, () => undefined, known);
    }
    for (const method of methods) known.add(method);
    if (known.has('GET')) known.add('HEAD');
  });
  return (path) => {
    // A prefix's root route answers with and without the trailing slash.
    const toggled = path.endsWith('/') ? path.slice(0, -1) : `${path}/`;
    const found = router.find('GET', path) ?? router.find('GET', toggled);
    return found ? [...(found.store as Set<string>)].sort() : [];
  };
}

/** One handler renders every error in the contract's shape, including unknown routes. */
export function registerErrorHandling(app: FastifyInstance): void {
  const allowedMethods = methodIndex(app);
  // No route for this method: 405 with `Allow` when the path is known, else 404.
  const unrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = allowedMethods(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return sendProblem(
        request,
        reply,
        new AppError({
          code: 'BAD_REQUEST',
          status: 405,
          message: `Method ${request.method} is not allowed here; allowed: ${allowed.join(', ')}.`,
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return sendProblem(
      request,
      reply,
      new AppError({
        code: 'NOT_FOUND',
        status: 404,
        message: `Route ${request.method} ${path.slice(0, 200)} not found`,
      }),
    );
  };
  app.setErrorHandler((err, request, reply) =>
    // Errors raised before an unknown route's handler (a QUERY without Content-Type, a body
    // that does not parse) are about the route not existing.
    request.is404 ? unrouted(request, reply) : sendProblem(request, reply, err),
  );
  app.setNotFoundHandler(unrouted);
}

/**
 * Fastify's `frameworkErrors`: refusals of its router, before any route or hook runs. A path
 * parameter that cannot be decoded or is longer than the router takes (`maxParamLength`) names
 * no item: 404, like any malformed id, in the problem shape and without echoing the path.
 */
export function frameworkError(
  err: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  reply.header('x-request-id', request.id);
  if (err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(
      request,
      reply,
      new AppError({ code: 'NOT_FOUND', status: 404, message: 'No item has this id.' }),
    );
  }
  return sendProblem(request, reply, err);
}
