import { createHash, randomUUID } from 'node:crypto';
import { listenLoopback, readBody, sendJson } from './http-fake.ts';

/**
 * A loopback stand-in for Linear's GraphQL API and OAuth token endpoint.
 *
 * - `POST /graphql`: routed on the operation name of `query|mutation <Name>`. Built in:
 *   `MonoidOrganization`, `teams`, `webhooks`, `createWebhook`, `deleteWebhook`. Add others
 *   with `fake.handle(name, (variables) => data)`. Each call is recorded in `calls`.
 *   Credentials: `Authorization` (a personal key, or `Bearer <token>`) must be in
 *   `validTokens`, else 401 with an `authentication error` (the SDK throws).
 * - `POST /oauth/token` (form-encoded): `code` must be a key of `oauthCodes`; answers
 *   `{ access_token }` and adds the token to `validTokens`. Requests are in `tokenRequests`.
 *
 * - Token lifecycle (`tokenLifetimeSeconds`): OAuth tokens expire after that many seconds
 *   of `now()` (an injectable clock) and come with a refresh token; `grant_type=refresh_token`
 *   rotates it (the old one answers `invalid_grant`). `refreshTokens` can be cleared to refuse.
 *   PKCE: a `code_challenge` registered in `oauthChallenges` must match the `code_verifier`.
 * - Budgets: `responseHeaders` are sent on every GraphQL answer (rate-limit headers);
 *   `rateLimitNext(n, headers)` answers the next `n` calls `RATELIMITED` (HTTP 400).
 *
 * Start with `startFakeLinear()`; point the server at it with
 * `fake.env()` (LINEAR_API_URL, LINEAR_OAUTH_TOKEN_URL, LINEAR_OAUTH_AUTHORIZE_URL).
 */
export interface FakeLinearWebhook {
  id: string;
  url: string;
  teamId: string | null;
  label: string | null;
  secret: string | null;
  enabled: boolean;
  resourceTypes: string[];
}

export interface FakeLinearCall {
  operation: string;
  variables: Record<string, unknown>;
  /** The Authorization header without a `Bearer ` prefix. */
  token: string | undefined;
}

export type FakeLinearHandler = (
  variables: Record<string, unknown>,
  call: FakeLinearCall,
) => unknown | Promise<unknown>;

export interface FakeLinear {
  url: string;
  graphqlUrl: string;
  organization: { id: string; name: string };
  teams: Array<{ id: string; name: string; key: string }>;
  webhooks: Map<string, FakeLinearWebhook>;
  validTokens: Set<string>;
  oauthCodes: Map<string, string>;
  calls: FakeLinearCall[];
  tokenRequests: URLSearchParams[];
  /** Refresh token -> (nothing): the refresh tokens that still work. */
  refreshTokens: Set<string>;
  /** Access token -> epoch ms (the fake's clock) after which it answers 401. */
  tokenExpiry: Map<string, number>;
  /** Authorization code -> PKCE S256 challenge the exchange must satisfy. */
  oauthChallenges: Map<string, string>;
  /** Headers added to every GraphQL answer. */
  responseHeaders: Record<string, string>;
  /** Time (epoch ms) of each GraphQL call, in order. */
  callTimes: number[];
  /** Token requests with `grant_type=refresh_token`. */
  refreshRequests(): URLSearchParams[];
  rateLimitNext(count: number, headers: Record<string, string>): void;
  /** Calls of one operation, in order. */
  callsOf(operation: string): FakeLinearCall[];
  handle(operation: string, handler: FakeLinearHandler): void;
  /** The next `count` calls of `operation` answer a GraphQL error (the SDK throws). */
  failNext(operation: string, count?: number): void;
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeLinear(
  options: {
    tokens?: string[];
    teams?: Array<{ id: string; name: string; key: string }>;
    /** OAuth access tokens expire after this many seconds and come with refresh tokens. */
    tokenLifetimeSeconds?: number;
    now?: () => number;
  } = {},
): Promise<FakeLinear> {
  const handlers = new Map<string, FakeLinearHandler>();
  const failures = new Map<string, number>();
  const now = options.now ?? Date.now;
  let rateLimited = { count: 0, headers: {} as Record<string, string> };
  let issued = 0;
  const fake = {
    organization: { id: randomUUID(), name: 'Acme Linear' },
    teams: options.teams ?? [
      { id: randomUUID(), name: 'Engineering', key: 'ENG' },
      { id: randomUUID(), name: 'Design', key: 'DES' },
    ],
    webhooks: new Map<string, FakeLinearWebhook>(),
    validTokens: new Set(options.tokens ?? ['lin_api_test_key']),
    oauthCodes: new Map<string, string>(),
    calls: [] as FakeLinearCall[],
    tokenRequests: [] as URLSearchParams[],
    refreshTokens: new Set<string>(),
    tokenExpiry: new Map<string, number>(),
    oauthChallenges: new Map<string, string>(),
    responseHeaders: {} as Record<string, string>,
    callTimes: [] as number[],
  };
  /** Issues an access token (and, with a lifetime, a refresh token) and its answer. */
  const issue = (accessToken: string) => {
    fake.validTokens.add(accessToken);
    if (!options.tokenLifetimeSeconds)
      return {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 315_705_599,
        scope: ['read', 'admin'],
      };
    const refreshToken = `lin_refresh_${++issued}_${randomUUID()}`;
    fake.refreshTokens.add(refreshToken);
    fake.tokenExpiry.set(accessToken, now() + options.tokenLifetimeSeconds * 1000);
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: options.tokenLifetimeSeconds,
      refresh_token: refreshToken,
      scope: 'read,admin',
    };
  };

  const page = <T>(nodes: T[]) => ({
    nodes,
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  });

  handlers.set('MonoidOrganization', () => ({ organization: fake.organization }));
  handlers.set('teams', () => ({
    teams: page(
      fake.teams.map((t) => ({
        __typename: 'Team',
        ...t,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      })),
    ),
  }));
  handlers.set('webhooks', () => ({
    webhooks: page(
      [...fake.webhooks.values()].map((w) => ({
        __typename: 'Webhook',
        id: w.id,
        url: w.url,
        label: w.label,
        enabled: w.enabled,
        resourceTypes: w.resourceTypes,
        team: w.teamId ? { id: w.teamId } : null,
        allPublicTeams: false,
        createdAt: new Date().toISOString(),
        updatedAt: new Date().toISOString(),
      })),
    ),
  }));
  handlers.set('createWebhook', (variables) => {
    const input = (variables.input ?? {}) as Record<string, unknown>;
    const id = randomUUID();
    fake.webhooks.set(id, {
      id,
      url: String(input.url),
      teamId: typeof input.teamId === 'string' ? input.teamId : null,
      label: typeof input.label === 'string' ? input.label : null,
      secret: typeof input.secret === 'string' ? input.secret : null,
      enabled: input.enabled !== false,
      resourceTypes: Array.isArray(input.resourceTypes) ? (input.resourceTypes as string[]) : [],
    });
    return {
      webhookCreate: {
        __typename: 'WebhookPayload',
        lastSyncId: 1,
        success: true,
        webhook: { id },
      },
    };
  });
  handlers.set('deleteWebhook', (variables) => {
    const id = String(variables.id);
    if (!fake.webhooks.delete(id)) throw new Error('Entity not found: Webhook');
    return {
      webhookDelete: { __typename: 'DeletePayload', entityId: id, lastSyncId: 2, success: true },
    };
  });

  const server = await listenLoopback(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const raw = await readBody(req);
    if (req.method === 'POST' && path === '/oauth/token') {
      const form = new URLSearchParams(raw.toString('utf8'));
      fake.tokenRequests.push(form);
      if (form.get('grant_type') === 'refresh_token') {
        const presented = form.get('refresh_token') ?? '';
        if (!fake.refreshTokens.delete(presented))
          return sendJson(res, 400, {
            error: 'invalid_grant',
            error_description: 'The refresh token is invalid or was already used.',
          });
        return sendJson(res, 200, issue(`lin_oauth_refreshed_${++issued}_${randomUUID()}`));
      }
      const code = form.get('code') ?? '';
      const token = fake.oauthCodes.get(code);
      if (!token) return sendJson(res, 400, { error: 'invalid_grant' });
      const challenge = fake.oauthChallenges.get(code);
      const verifier = form.get('code_verifier') ?? '';
      if (
        challenge !== undefined &&
        createHash('sha256').update(verifier).digest('base64url') !== challenge
      )
        return sendJson(res, 400, { error: 'invalid_grant', error_description: 'PKCE failed' });
      fake.oauthCodes.delete(code);
      return sendJson(res, 200, issue(token));
    }
    if (req.method !== 'POST' || path !== '/graphql')
      return sendJson(res, 404, { error: 'not found' });
    const body = JSON.parse(raw.toString('utf8')) as {
      query?: string;
      variables?: Record<string, unknown>;
    };
    const operation = /^\s*(?:query|mutation)\s+(\w+)/.exec(body.query ?? '')?.[1] ?? '(anonymous)';
    const authorization = req.headers.authorization;
    const token = authorization?.replace(/^Bearer\s+/i, '');
    const call: FakeLinearCall = { operation, variables: body.variables ?? {}, token };
    fake.calls.push(call);
    fake.callTimes.push(now());
    for (const [name, value] of Object.entries(fake.responseHeaders)) res.setHeader(name, value);
    const expiry = token ? fake.tokenExpiry.get(token) : undefined;
    if (!token || !fake.validTokens.has(token) || (expiry !== undefined && expiry <= now()))
      return sendJson(res, 401, {
        errors: [
          {
            message: 'Authentication required, not authenticated',
            extensions: { type: 'authentication error', code: 'AUTHENTICATION_ERROR' },
          },
        ],
      });
    if (rateLimited.count > 0) {
      rateLimited.count -= 1;
      for (const [name, value] of Object.entries(rateLimited.headers)) res.setHeader(name, value);
      return sendJson(res, 400, {
        errors: [
          {
            message: 'Rate limit exceeded',
            extensions: { type: 'ratelimited', code: 'RATELIMITED' },
          },
        ],
      });
    }
    const pendingFailures = failures.get(operation) ?? 0;
    if (pendingFailures > 0) {
      failures.set(operation, pendingFailures - 1);
      return sendJson(res, 200, {
        errors: [{ message: 'Internal failure (fake)', extensions: { type: 'internal error' } }],
      });
    }
    const handler = handlers.get(operation);
    if (!handler)
      return sendJson(res, 200, {
        errors: [
          { message: `fake Linear: no handler for ${operation}`, extensions: { type: 'unknown' } },
        ],
      });
    try {
      return sendJson(res, 200, { data: await handler(call.variables, call) });
    } catch (err) {
      return sendJson(res, 200, {
        errors: [
          {
            message: err instanceof Error ? err.message : String(err),
            extensions: { type: 'invalid input' },
          },
        ],
      });
    }
  });

  return {
    ...fake,
    url: server.url,
    graphqlUrl: `${server.url}/graphql`,
    callsOf: (operation) => fake.calls.filter((c) => c.operation === operation),
    refreshRequests: () =>
      fake.tokenRequests.filter((f) => f.get('grant_type') === 'refresh_token'),
    rateLimitNext: (count, headers) => {
      rateLimited = { count, headers };
    },
    handle: (operation, handler) => void handlers.set(operation, handler),
    failNext: (operation, count = 1) => void failures.set(operation, count),
    env: () => ({
      LINEAR_API_URL: `${server.url}/graphql`,
      LINEAR_OAUTH_TOKEN_URL: `${server.url}/oauth/token`,
      LINEAR_OAUTH_AUTHORIZE_URL: `${server.url}/oauth/authorize`,
    }),
    close: server.close,
  };
}
