import { z } from 'zod';

/** The closed set of error codes of the contract (§2). */
export const errorCodes = [
  'BAD_REQUEST',
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'API_KEY_EXPIRED',
  'API_KEY_REVOKED',
  'FORBIDDEN',
  'INSUFFICIENT_SCOPE',
  'KEY_WORKSPACE_RESTRICTED',
  'NOT_FOUND',
  'CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

const titles: Record<ErrorCode, string> = {
  BAD_REQUEST: 'Bad request',
  VALIDATION_ERROR: 'Validation failed',
  UNAUTHORIZED: 'Unauthorized',
  API_KEY_EXPIRED: 'API key expired',
  API_KEY_REVOKED: 'API key revoked',
  FORBIDDEN: 'Forbidden',
  INSUFFICIENT_SCOPE: 'Insufficient scope',
  KEY_WORKSPACE_RESTRICTED: 'API key restricted to another workspace',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency key reused',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  RATE_LIMITED: 'Too many requests',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Internal server error',
};

export function errorTitle(code: ErrorCode): string {
  return titles[code];
}

/** Problem `type` URIs: one stable, documented URI per code. */
export function errorType(code: ErrorCode): string {
  return `https://monoid.app/problems/${code.toLowerCase().replaceAll('_', '-')}`;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface AppErrorOptions {
  code: ErrorCode;
  status: number;
  message: string;
  /** Extra response headers (WWW-Authenticate, Retry-After, ...). */
  headers?: Record<string, string>;
  errors?: FieldError[];
  /** Whether `message` may be shown to the client; false for unexpected failures. */
  expose?: boolean;
  cause?: unknown;
}

/** Errors are values with codes; one handler renders every one of them (http/error-handler.ts). */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly errors: FieldError[] | undefined;
  readonly expose: boolean;

  constructor(options: AppErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.status = options.status;
    this.headers = options.headers ?? {};
    this.errors = options.errors;
    this.expose = options.expose ?? options.status < 500;
  }
}

export const badRequest = (message: string, errors?: FieldError[]) =>
  new AppError({ code: 'BAD_REQUEST', status: 400, message, ...(errors ? { errors } : {}) });
export const validationError = (message: string, errors: FieldError[]) =>
  new AppError({ code: 'VALIDATION_ERROR', status: 400, message, errors });
export const notFound = (what = 'Resource') =>
  new AppError({ code: 'NOT_FOUND', status: 404, message: `${what} not found` });
export const conflict = (message: string) =>
  new AppError({ code: 'CONFLICT', status: 409, message });
export const forbidden = (message: string) =>
  new AppError({ code: 'FORBIDDEN', status: 403, message });
export const serviceUnavailable = (message: string, headers?: Record<string, string>) =>
  new AppError({
    code: 'SERVICE_UNAVAILABLE',
    status: 503,
    message,
    ...(headers ? { headers } : {}),
  });

/** The response body of every error (RFC 9457 plus the fields the monoid CLI reads). */
export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(errorCodes),
    requestId: z.string(),
    error: z.literal(true),
    message: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });
export type Problem = z.infer<typeof problemSchema>;

export function problemBody(input: {
  code: ErrorCode;
  status: number;
  detail: string;
  requestId: string;
  errors?: FieldError[] | undefined;
}): Problem {
  return {
    type: errorType(input.code),
    title: errorTitle(input.code),
    status: input.status,
    detail: input.detail,
    code: input.code,
    requestId: input.requestId,
    error: true,
    message: input.detail,
    ...(input.errors ? { errors: input.errors } : {}),
  };
}

/** Error responses to spread into a route's `response` schema map. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, problemSchema])) as Record<
    number,
    typeof problemSchema
  >;
