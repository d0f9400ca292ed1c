import { AppError, badRequest } from '../../http/errors.ts';

/** A webhook that fails verification. The detail names the check, never a secret. */
export const webhookUnauthorized = (detail: string) =>
  new AppError({ code: 'UNAUTHORIZED', status: 401, message: detail });

export const webhookBadRequest = (detail: string) => badRequest(detail);

/** An error retrying cannot fix (a missing container a rule names...): dead-letter at once. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** A provider asked us to slow down (429) or failed (5xx): retry, not before `retryAfterMs`. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}
