import { LinearClient, parseLinearError } from '@linear/sdk';

/**
 * The few Linear calls this feature makes, through `@linear/sdk` pointed at `LINEAR_API_URL`
 * (a loopback fake in tests). Every function takes a ready client; see `createLinearClient`.
 */
export interface LinearCredentials {
  authType: 'oauth' | 'api_key';
  token: string;
}

export function createLinearClient(apiUrl: string, credentials: LinearCredentials): LinearClient {
  return credentials.authType === 'oauth'
    ? new LinearClient({ accessToken: credentials.token, apiUrl })
    : new LinearClient({ apiKey: credentials.token, apiUrl });
}

/** Resource types every MONOid webhook subscribes to (issues, projects, comments and labels). */
export const LINEAR_WEBHOOK_RESOURCE_TYPES = ['Issue', 'Project', 'Comment', 'IssueLabel'];
/** Label of every webhook this server creates; the reconciler only deletes webhooks it made. */
export const LINEAR_WEBHOOK_LABEL = 'MONOid';

export interface LinearTeam {
  id: string;
  name: string;
  key: string;
}

export interface LinearWebhookInfo {
  id: string;
  url: string | null;
  label: string | null;
  teamId: string | null;
  enabled: boolean;
}

export async function fetchLinearOrganization(
  client: LinearClient,
): Promise<{ id: string; name: string }> {
  // A raw query keeps the request (and the fake) small: the SDK's Organization model
  // fetches dozens of fields we do not need.
  try {
    const data = await client.client.request<
      { organization: { id: string; name: string } },
      Record<string, never>
    >('query MonoidOrganization { organization { id name } }', {});
    return data.organization;
  } catch (err) {
    throw parseLinearError(err as Parameters<typeof parseLinearError>[0]);
  }
}

export async function listLinearTeams(client: LinearClient): Promise<LinearTeam[]> {
  const teams: LinearTeam[] = [];
  let page = await client.teams({ first: 100 });
  for (;;) {
    for (const team of page.nodes) teams.push({ id: team.id, name: team.name, key: team.key });
    if (!page.pageInfo.hasNextPage || teams.length >= 2_000) break;
    page = await page.fetchNext();
  }
  return teams;
}

export async function listLinearWebhooks(client: LinearClient): Promise<LinearWebhookInfo[]> {
  const hooks: LinearWebhookInfo[] = [];
  let page = await client.webhooks({ first: 100 });
  for (;;) {
    for (const hook of page.nodes)
      hooks.push({
        id: hook.id,
        url: hook.url ?? null,
        label: hook.label ?? null,
        teamId: hook.teamId ?? null,
        enabled: hook.enabled,
      });
    if (!page.pageInfo.hasNextPage || hooks.length >= 2_000) break;
    page = await page.fetchNext();
  }
  return hooks;
}

export async function createLinearWebhook(
  client: LinearClient,
  input: { url: string; teamId: string; secret: string },
): Promise<string> {
  const result = await client.createWebhook({
    url: input.url,
    teamId: input.teamId,
    secret: input.secret,
    label: LINEAR_WEBHOOK_LABEL,
    resourceTypes: LINEAR_WEBHOOK_RESOURCE_TYPES,
    enabled: true,
  });
  const id = result.webhookId;
  if (!result.success || !id) throw new Error('Linear did not create the webhook');
  return id;
}

/** Deletes a webhook; one that Linear no longer knows counts as deleted. */
export async function deleteLinearWebhook(client: LinearClient, id: string): Promise<void> {
  try {
    await client.deleteWebhook(id);
  } catch (err) {
    if (isLinearNotFound(err)) return;
    throw err;
  }
}

function isLinearNotFound(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /not found|could not find|entity not found/i.test(message);
}

/** Whether the error means the credentials are no longer valid (revoked, uninstalled). */
export function isLinearAuthError(err: unknown): boolean {
  const type = (err as { type?: unknown }).type;
  if (type === 'AuthenticationError' || type === 'Forbidden') return true;
  const status = (err as { status?: unknown }).status;
  return status === 401 || status === 403;
}

export interface OAuthTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number | null;
  scope: string | null;
}

/** Exchanges an authorization code at Linear's token endpoint (`LINEAR_OAUTH_TOKEN_URL`). */
export async function exchangeLinearCode(input: {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  code: string;
}): Promise<OAuthTokens> {
  const response = await fetch(input.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: input.redirectUri,
      client_id: input.clientId,
      client_secret: input.clientSecret,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== 'string')
    throw new Error(`Linear token endpoint answered ${response.status}`);
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
