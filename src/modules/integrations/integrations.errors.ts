import { AppError, badRequest } from '../../http/errors.ts';

/** A webhook that fails verification. The detail names the check, never a secret. */
export const webhookUnauthorized = (detail: string) =>
  new AppError({ code: 'UNAUTHORIZED', status: 401, message: detail });

export const webhookBadRequest = (detail: string) => badRequest(detail);

export const integrationNotConnected = (provider: string) =>
  new AppError({
    code: 'NOT_FOUND',
    status: 404,
    message: `No ${provider} connection in this workspace`,
  });

/**
 * The provider refused or failed the request (its own answer): 502. The contract's code list
 * is closed, so the code is SERVICE_UNAVAILABLE; the status says "the provider failed".
 */
export const providerRejected = (
  provider: string,
  detail: string,
  headers: Record<string, string> = {},
) =>
  new AppError({
    code: 'SERVICE_UNAVAILABLE',
    status: 502,
    message: `${provider}: ${detail}`,
    headers,
    expose: true,
  });

/** The stored connection's credentials were refused: 409 until an admin reconnects. */
export const reauthorizationRequired = (provider: string, reason: string) =>
  new AppError({
    code: 'CONFLICT',
    status: 409,
    message: `reauthorization_required: ${reason.startsWith(provider) ? reason : `${provider}: ${reason}`}`,
  });

export const providerUnavailable = (provider: string) =>
  new AppError({
    code: 'SERVICE_UNAVAILABLE',
    status: 503,
    message: `${provider} could not be reached; retry shortly.`,
    headers: { 'retry-after': '5' },
    expose: true,
  });
