/**
 * What a provider's OAuth token endpoint answered, and how it refused. Linear answers the
 * standard form-encoded endpoint; Notion goes through its SDK; both end up here.
 */
export interface OAuthTokens {
  accessToken: string;
  /** A new refresh token (rotation) or null when the answer carried none. */
  refreshToken: string | null;
  /** Seconds, or null when the token does not expire. */
  expiresIn: number | null;
  scope: string | null;
}

/**
 * The token endpoint refused the grant itself (`invalid_grant`, `invalid_client`, ...): the
 * person must authorize again. Distinct from the endpoint being unreachable or failing (5xx),
 * which is retried and changes nothing.
 */
export class OAuthGrantRefused extends Error {
  constructor(
    readonly provider: string,
    /** The OAuth `error` code (`invalid_grant`, ...), never a token. */
    readonly error: string,
    readonly description: string | null,
  ) {
    super(`${provider} refused the OAuth grant: ${error}${description ? ` (${description})` : ''}`);
    this.name = 'OAuthGrantRefused';
  }
}

/** The token endpoint failed (network, 5xx, unreadable answer): retry later. */
export class OAuthEndpointFailed extends Error {
  constructor(provider: string, detail: string) {
    super(`${provider} token endpoint failed: ${detail}`);
    this.name = 'OAuthEndpointFailed';
  }
}

const bounded = (value: unknown): string | null =>
  typeof value === 'string' ? value.slice(0, 200) : null;

/** Parses a token endpoint answer (RFC 6749 §5.1 / §5.2). */
export function parseTokenAnswer(
  provider: string,
  status: number,
  body: Record<string, unknown>,
): OAuthTokens {
  if (status >= 400 && status < 500 && typeof body.error === 'string')
    throw new OAuthGrantRefused(provider, body.error.slice(0, 60), bounded(body.error_description));
  if (status >= 400 && status < 500)
    throw new OAuthGrantRefused(provider, `http_${status}`, bounded(body.message));
  if (status >= 300 || typeof body.access_token !== 'string')
    throw new OAuthEndpointFailed(provider, `answered ${status}`);
  return {
    accessToken: body.access_token,
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : null,
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : null,
    scope:
      typeof body.scope === 'string'
        ? body.scope
        : Array.isArray(body.scope)
          ? body.scope.join(',')
          : null,
  };
}

/** POSTs a form to a token endpoint and parses the answer. */
export async function postTokenForm(
  provider: string,
  tokenUrl: string,
  form: Record<string, string>,
): Promise<OAuthTokens> {
  let response: Response;
  try {
    response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new OAuthEndpointFailed(provider, err instanceof Error ? err.name : 'network error');
  }
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return parseTokenAnswer(provider, response.status, body);
}
