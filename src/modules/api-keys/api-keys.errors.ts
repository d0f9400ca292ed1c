import { refusal } from '../../http/rate-limit.ts';

/** RFC 6750 challenges. The realm is fixed; descriptions never echo the presented key. */
const REALM = 'Bearer realm="MONOid"';

function invalidTokenChallenge(description: string): string {
  return `${REALM}, error="invalid_token", error_description="${description}"`;
}

/** No credentials at all: a bare challenge, no `error=` (RFC 6750 §3.1). */
export const missingCredentials = () =>
  refusal({
    code: 'UNAUTHORIZED',
    status: 401,
    message: 'An API key is required: send Authorization: Bearer mo_...',
    headers: { 'www-authenticate': REALM },
  });

export const invalidApiKey = (
  description = 'The API key is not valid.',
  code: 'UNAUTHORIZED' | 'API_KEY_REVOKED' | 'API_KEY_EXPIRED' = 'UNAUTHORIZED',
) =>
  refusal({
    code,
    status: 401,
    message: description,
    headers: { 'www-authenticate': invalidTokenChallenge(description) },
  });

export const malformedApiKey = () => invalidApiKey('The API key is malformed.');
export const revokedApiKey = () =>
  invalidApiKey('The API key has been revoked.', 'API_KEY_REVOKED');
export const expiredApiKey = () => invalidApiKey('The API key has expired.', 'API_KEY_EXPIRED');

// Defined in the shared HTTP layer: other features (workspace moves) refuse with it too.
export { insufficientScope } from '../../http/auth-context.ts';
