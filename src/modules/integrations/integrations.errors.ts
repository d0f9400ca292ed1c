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

export const providerRejected = (provider: string, detail: string) =>
  new AppError({ code: 'BAD_REQUEST', status: 400, message: `${provider}: ${detail}` });

export const providerUnavailable = (provider: string) =>
  new AppError({
    code: 'SERVICE_UNAVAILABLE',
    status: 503,
    message: `${provider} could not be reached; retry shortly.`,
    headers: { 'retry-after': '5' },
    expose: true,
  });
