import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { listenLoopback, readBody, sendJson } from './http-fake.ts';

/**
 * A loopback stand-in for Notion's REST API (`NOTION_API_URL`):
 * - `GET /v1/users/me`: the integration's bot user with `workspace_id` / `workspace_name`;
 * - `GET /v1/pages/:id`: a page from `pages` (404 `object_not_found` otherwise);
 * - `PATCH /v1/pages/:id` (`pages.update`): merges `properties` into the page and sets its
 *   `last_edited_time` to now; 404 for a page not in `pages`;
 * - `POST /v1/oauth/token` (Basic client credentials): `code` must be in `oauthCodes`.
 * Every request is recorded in `requests` with its headers (assert `notion-version` and
 * `authorization`). Tokens not in `validTokens` get 401 `unauthorized`.
 * Extend with `fake.handle('GET /v1/databases/:id', ...)`-style routes via `routes`.
 * With `{ refreshTokens: true }` the code exchange also answers a `refresh_token`, and
 * `grant_type=refresh_token` rotates it (a used or unknown one answers 400 `invalid_grant`).
 * `rateLimitNext(n, seconds)` answers the next `n` API calls 429 with `Retry-After`.
 */
export interface FakeNotionRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** Arrival time (epoch ms). */
  at: number;
}

export interface FakeNotion {
  url: string;
  workspace: { id: string; name: string };
  validTokens: Set<string>;
  pages: Map<string, Record<string, unknown>>;
  oauthCodes: Map<string, string>;
  requests: FakeNotionRequest[];
  /** Refresh tokens that still work (with `refreshTokens: true`). */
  refreshTokens: Set<string>;
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /** Extra routes: key `METHOD /path/with/:params`. */
  routes: Map<string, (req: FakeNotionRequest, params: Record<string, string>) => unknown>;
  env(): Record<string, string>;
  close(): Promise<void>;
}

function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    const p = a[i] ?? '';
    const v = b[i] ?? '';
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(v);
    else if (p !== v) return undefined;
  }
  return params;
}

export async function startFakeNotion(
  options: { tokens?: string[]; refreshTokens?: boolean } = {},
): Promise<FakeNotion> {
  let limited = { count: 0, retryAfter: 1 };
  let issued = 0;
  const fake = {
    refreshTokens: new Set<string>(),
    workspace: { id: randomUUID(), name: 'Acme Notion' },
    validTokens: new Set(options.tokens ?? ['ntn_test_token']),
    pages: new Map<string, Record<string, unknown>>(),
    oauthCodes: new Map<string, string>(),
    requests: [] as FakeNotionRequest[],
    routes: new Map<string, (req: FakeNotionRequest, params: Record<string, string>) => unknown>(),
  };
  const error = (status: number, code: string, message: string) => ({
    object: 'error',
    status,
    code,
    message,
  });

  const server = await listenLoopback(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    } catch {
      body = undefined;
    }
    const request: FakeNotionRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      body,
      at: Date.now(),
    };
    fake.requests.push(request);

    if (req.method === 'POST' && path === '/v1/oauth/token') {
      const grant = body as { code?: string; grant_type?: string; refresh_token?: string };
      let token: string | undefined;
      if (grant?.grant_type === 'refresh_token') {
        if (!fake.refreshTokens.delete(grant.refresh_token ?? ''))
          return sendJson(res, 400, error(400, 'invalid_grant', 'Invalid refresh token.'));
        token = `ntn_refreshed_${++issued}_${randomUUID()}`;
      } else {
        token = fake.oauthCodes.get(grant?.code ?? '');
        fake.oauthCodes.delete(grant?.code ?? '');
      }
      if (!req.headers.authorization?.startsWith('Basic ') || !token)
        return sendJson(res, 400, error(400, 'invalid_grant', 'Invalid code.'));
      fake.validTokens.add(token);
      const refreshToken = options.refreshTokens ? `ntn_refresh_${++issued}_${randomUUID()}` : null;
      if (refreshToken) fake.refreshTokens.add(refreshToken);
      return sendJson(res, 200, {
        access_token: token,
        token_type: 'bearer',
        refresh_token: refreshToken,
        bot_id: randomUUID(),
        workspace_icon: null,
        workspace_name: fake.workspace.name,
        workspace_id: fake.workspace.id,
        owner: { type: 'workspace', workspace: true },
        duplicated_template_id: null,
      });
    }

    if (limited.count > 0) {
      limited.count -= 1;
      res.setHeader('retry-after', String(limited.retryAfter));
      return sendJson(res, 429, error(429, 'rate_limited', 'Rate limited.'));
    }
    const token = req.headers.authorization?.replace(/^Bearer\s+/i, '');
    if (!token || !fake.validTokens.has(token))
      return sendJson(res, 401, error(401, 'unauthorized', 'API token is invalid.'));

    if (req.method === 'GET' && path === '/v1/users/me')
      return sendJson(res, 200, {
        object: 'user',
        id: randomUUID(),
        type: 'bot',
        name: 'MONOid',
        avatar_url: null,
        bot: {
          owner: { type: 'workspace', workspace: true },
          workspace_id: fake.workspace.id,
          workspace_name: fake.workspace.name,
          workspace_limits: { max_file_upload_size_in_bytes: 5_000_000 },
        },
      });
    const page = match('/v1/pages/:id', path);
    if (req.method === 'GET' && page) {
      const found = fake.pages.get(page.id ?? '');
      return found
        ? sendJson(res, 200, found)
        : sendJson(res, 404, error(404, 'object_not_found', 'Could not find page.'));
    }
    if (req.method === 'PATCH' && page) {
      const found = fake.pages.get(page.id ?? '');
      if (!found) return sendJson(res, 404, error(404, 'object_not_found', 'Could not find page.'));
      const changes = (body as { properties?: Record<string, unknown> } | undefined)?.properties;
      const updated = {
        ...found,
        properties: { ...(found.properties as Record<string, unknown>), ...changes },
        last_edited_time: new Date().toISOString(),
      };
      fake.pages.set(page.id ?? '', updated);
      return sendJson(res, 200, updated);
    }
    for (const [key, handler] of fake.routes) {
      const [method, pattern] = key.split(' ');
      const params = method === req.method && pattern ? match(pattern, path) : undefined;
      if (params) return sendJson(res, 200, await handler(request, params));
    }
    return sendJson(res, 404, error(404, 'object_not_found', `fake Notion: no route ${path}`));
  });

  return {
    ...fake,
    url: server.url,
    env: () => ({ NOTION_API_URL: server.url }),
    rateLimitNext: (count, retryAfterSeconds) => {
      limited = { count, retryAfter: retryAfterSeconds };
    },
    close: server.close,
  };
}
