import { AppError, forbidden } from '../../http/errors.ts';

const realm = 'Bearer realm="MONOid"';

/**
 * 401 for the settings API. Per RFC 6750, a request that sent no credentials gets a bare
 * challenge; one that sent a bad token gets `error="invalid_token"` and a description.
 */
export function sessionUnauthorized(description?: string): AppError {
  const header = description
    ? `${realm}, error="invalid_token", error_description="${description.replaceAll('"', "'")}"`
    : realm;
  return new AppError({
    code: 'UNAUTHORIZED',
    status: 401,
    message:
      description ??
      'Sign in: send a Clerk session token (Authorization: Bearer or the __session cookie).',
    headers: { 'www-authenticate': header },
  });
}

export const clerkNotConfigured = (missing: readonly string[]): AppError =>
  new AppError({
    code: 'SERVICE_UNAVAILABLE',
    status: 503,
    message: `Clerk is not configured on this server: set ${missing.join(' and ')}. Without Clerk, use the operator CLI.`,
    // A configuration fact, not an internal failure: the operator must read it.
    expose: true,
  });

export const organisationAccessEnded = (): AppError =>
  forbidden(
    'Your access to the active organisation has ended. Switch to another workspace and retry.',
  );

export const activeOrganisationRequired = (): AppError =>
  forbidden('This action needs an active organisation: switch to an organisation first.');

export const organisationAdminRequired = (): AppError =>
  forbidden('Only admins (org:admin) of the active organisation can do this.');
