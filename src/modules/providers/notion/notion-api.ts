import { Client } from '@notionhq/client';

/** A Notion client pointed at `NOTION_API_URL` (a loopback fake in tests), without retries. */
export function createNotionClient(baseUrl: string, token: string): Client {
  return new Client({ auth: token, baseUrl, retry: false, timeoutMs: 10_000 });
}

export interface NotionWorkspace {
  workspaceId: string;
  workspaceName: string | null;
}

/** The workspace of a token, from its bot user (`GET /v1/users/me`). */
export async function fetchNotionWorkspace(client: Client): Promise<NotionWorkspace> {
  const me = await client.users.me({});
  if (me.type !== 'bot' || !('workspace_id' in me.bot))
    throw new Error('the Notion token does not belong to an integration');
  return { workspaceId: me.bot.workspace_id, workspaceName: me.bot.workspace_name };
}

export interface NotionOAuthResult {
  accessToken: string;
  refreshToken: string | null;
  workspaceId: string;
  workspaceName: string | null;
}

export async function exchangeNotionCode(input: {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  code: string;
}): Promise<NotionOAuthResult> {
  const client = new Client({ baseUrl: input.baseUrl, retry: false, timeoutMs: 10_000 });
  const result = await client.oauth.token({
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: input.redirectUri,
    client_id: input.clientId,
    client_secret: input.clientSecret,
  });
  return {
    accessToken: result.access_token,
    refreshToken: result.refresh_token,
    workspaceId: result.workspace_id,
    workspaceName: result.workspace_name,
  };
}

export function isNotionAuthError(err: unknown): boolean {
  const status = (err as { status?: unknown }).status;
  return status === 401 || status === 403;
}
