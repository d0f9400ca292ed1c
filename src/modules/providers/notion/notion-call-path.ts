import { Client } from '@notionhq/client';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../budget/clock.ts';
import { type BudgetStore, takeTurn } from '../budget/provider-budget.ts';
import { OAuthEndpointFailed, OAuthGrantRefused, type OAuthTokens } from '../tokens/oauth-grant.ts';
import type { CurrentToken, TokenRefresher } from '../tokens/token-refresher.ts';
import { type CallPathInput, tokenRefresherFor } from '../tokens/token-refresher-for.ts';
import { requestNotionToken } from './notion-api.ts';

type NotionFetch = NonNullable<ConstructorParameters<typeof Client>[0]>['fetch'];

/**
 * The one path every Notion call of a stored connection takes: a Notion `Client` whose fetch
 * 1. takes the connection's next slot in the shared budget (`notion:<connection id>`, spaced
 *    `1000 / NOTION_REQUESTS_PER_SECOND` ms), so all processes and instances together stay
 *    within Notion's 3 requests/second per connection;
 * 2. carries the current token, refreshed before expiry when the OAuth answer had a refresh
 *    token, and refreshed once after a 401 (a token that cannot be refreshed marks the
 *    connection `reauthorization_required`);
 * 3. after a 429 blocks the budget for `Retry-After`, so the next call of any process waits.
 */
export interface NotionCallPathDeps {
  baseUrl: string;
  tokens: TokenRefresher;
  budget: BudgetStore;
  clock: Clock;
  log: FastifyBaseLogger;
  requestsPerSecond: number;
}

export class NotionCallPath {
  constructor(private readonly deps: NotionCallPathDeps) {}

  get tokens(): TokenRefresher {
    return this.deps.tokens;
  }

  budgetKey(connectionId: string): string {
    return `notion:${connectionId}`;
  }

  async client(connectionId: string, options: { maxWaitMs: number }): Promise<Client> {
    const { budget, clock, tokens } = this.deps;
    let current: CurrentToken = await tokens.current(connectionId);
    const key = this.budgetKey(connectionId);
    const spacingMs = 1000 / this.deps.requestsPerSecond;
    const paced: NotionFetch = async (url, init) => {
      let refreshed = false;
      for (;;) {
        await takeTurn(budget, clock, key, { spacingMs, maxWaitMs: options.maxWaitMs });
        if (tokens.expiresSoon(current))
          current = await tokens.refresh(connectionId, current.token);
        const sent = current.token;
        const response = await globalThis.fetch(url, {
          ...init,
          headers: { ...init?.headers, authorization: `Bearer ${sent}` },
        });
        if (response.status === 429) {
          const seconds = Number(response.headers.get('retry-after'));
          const until =
            clock.now() + (Number.isFinite(seconds) && seconds > 0 ? seconds : 1) * 1000;
          await budget.blockUntil(key, until);
        }
        if (response.status === 401 && !refreshed) {
          refreshed = true;
          await response.text().catch(() => undefined);
          current = await tokens.refresh(connectionId, sent);
          continue;
        }
        return response;
      }
    };
    return new Client({
      auth: current.token,
      baseUrl: this.deps.baseUrl,
      retry: false,
      timeoutMs: 10_000 + options.maxWaitMs,
      fetch: paced,
    });
  }
}

/** Notion's refresh grant, in the token refresher's terms. */
export async function refreshNotionToken(input: {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}): Promise<OAuthTokens> {
  try {
    const result = await requestNotionToken(input, {
      grant_type: 'refresh_token',
      refresh_token: input.refreshToken,
    });
    return { ...result, scope: null };
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500)
      throw new OAuthGrantRefused(
        'Notion',
        String((err as { code?: unknown }).code ?? `http_${status}`),
        null,
      );
    throw new OAuthEndpointFailed('Notion', err instanceof Error ? err.name : 'error');
  }
}

/** The Notion call path of an app. */
export function createNotionCallPath(input: CallPathInput): NotionCallPath {
  const { config } = input;
  const tokens = tokenRefresherFor(input, {
    id: 'notion',
    displayName: 'Notion',
    credentials: { clientId: config.NOTION_CLIENT_ID, clientSecret: config.NOTION_CLIENT_SECRET },
    refresh: (credentials, refreshToken) =>
      refreshNotionToken({ baseUrl: config.NOTION_API_URL, ...credentials, refreshToken }),
  });
  return new NotionCallPath({
    baseUrl: config.NOTION_API_URL,
    tokens,
    budget: input.budget,
    clock: input.clock,
    log: input.log,
    requestsPerSecond: config.NOTION_REQUESTS_PER_SECOND,
  });
}
