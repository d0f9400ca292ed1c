import { randomUUID } from 'node:crypto';
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
  /** Calls of one operation, in order. */
  callsOf(operation: string): FakeLinearCall[];
  handle(operation: string, handler: FakeLinearHandler): void;
  /** The next `count` calls of `operation` answer a GraphQL error (the SDK throws). */
  failNext(operation: string, count?: number): void;
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeLinear(
  options: { tokens?: string[]; teams?: Array<{ id: string; name: string; key: string }> } = {},
): Promise<FakeLinear> {
  const handlers = new Map<string, FakeLinearHandler>();
  const failures = new Map<string, number>();
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
      const token = fake.oauthCodes.get(form.get('code') ?? '');
      if (!token) return sendJson(res, 400, { error: 'invalid_grant' });
      fake.oauthCodes.delete(form.get('code') ?? '');
      fake.validTokens.add(token);
      return sendJson(res, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 315_705_599,
        scope: ['read', 'admin'],
      });
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
    if (!token || !fake.validTokens.has(token))
      return sendJson(res, 401, {
        errors: [
          {
            message: 'Authentication required, not authenticated',
            extensions: { type: 'authentication error', code: 'AUTHENTICATION_ERROR' },
          },
        ],
      });
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
