import { createHash, randomBytes } from 'node:crypto';
import { type OAuthTokens, postTokenForm } from '../tokens/oauth-grant.ts';

/**
 * Linear's OAuth token endpoint (`LINEAR_OAUTH_TOKEN_URL`): the code exchange (with the PKCE
 * verifier) and the refresh grant. Since 2026-04-01 every Linear OAuth access token expires
 * (`expires_in` about 24 h) and each refresh returns a new refresh token (rotation); see
 * docs/integrations.md, "Token lifecycle".
 */
export interface LinearOAuthClient {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

export function exchangeLinearCode(
  client: LinearOAuthClient & { redirectUri: string; code: string; codeVerifier: string | null },
): Promise<OAuthTokens> {
  return postTokenForm('Linear', client.tokenUrl, {
    grant_type: 'authorization_code',
    code: client.code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    client_secret: client.clientSecret,
    ...(client.codeVerifier ? { code_verifier: client.codeVerifier } : {}),
  });
}

export function refreshLinearToken(
  client: LinearOAuthClient,
  refreshToken: string,
): Promise<OAuthTokens> {
  return postTokenForm('Linear', client.tokenUrl, {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: client.clientId,
    client_secret: client.clientSecret,
  });
}

/** PKCE (RFC 7636, S256): a random verifier and its challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}
