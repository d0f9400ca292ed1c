import { LinearClient, parseLinearError } from '@linear/sdk';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../budget/clock.ts';
import { type BudgetStore, takeTurn } from '../budget/provider-budget.ts';
import { observeResponses } from '../budget/response-observer.ts';
import type { CurrentToken, TokenRefresher } from '../tokens/token-refresher.ts';
import { type CallPathInput, tokenRefresherFor } from '../tokens/token-refresher-for.ts';
import { refreshLinearToken } from './linear-tokens.ts';

/**
 * The one path every Linear call of a stored connection takes (settings, webhook
 * registration, reconciler, backfill): a `LinearClient` whose requests
 * 1. wait for the connection's shared budget (`linear:<connection id>`: blocked until a
 *    rate-limit reset, across processes and instances);
 * 2. carry the current access token, refreshed before it expires (`TokenRefresher`);
 * 3. after a 401 / `AUTHENTICATION_ERROR`, refresh once and retry once;
 * 4. read `X-RateLimit-Requests-*` / `X-RateLimit-Complexity-*` on every answer: when what
 *    remains is at or below the low-water mark, or the answer is `RATELIMITED`, the budget is
 *    blocked until the reset (the next call of any process waits, jittered); a `RATELIMITED`
 *    call is retried once after its wait.
 * A wait longer than the caller's `maxWaitMs` throws `BudgetExhausted` with the time to
 * come back instead (interactive callers answer at once; the backfill reschedules itself).
 */
export interface LinearCallPathDeps {
  apiUrl: string;
  tokens: TokenRefresher;
  budget: BudgetStore;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Remaining requests at or below which calls wait for the reset. */
  lowRequests: number;
  /** Remaining complexity points at or below which calls wait for the reset. */
  lowComplexity: number;
  /** Up to this much random delay is added to a wait for a reset. */
  jitterMs: number;
}

/** What Linear's last answer said about the connection's budget (headers; null if absent). */
export interface LinearBudgetSnapshot {
  requestsRemaining: number | null;
  requestsResetAt: number | null;
  complexityRemaining: number | null;
  complexityResetAt: number | null;
  /** `X-Complexity`: what the last query cost. */
  lastComplexity: number | null;
}

const num = (value: string | null): number | null => {
  if (value === null || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
};

/** Reset headers are Unix time, in seconds or in milliseconds as sent: normalise to ms. */
const epochMs = (value: number | null): number | null =>
  value === null ? null : value < 100_000_000_000 ? value * 1000 : value;

function errorCodes(err: unknown): string[] {
  const raw = (err as { raw?: { response?: { errors?: unknown } } }).raw;
  const errors = raw?.response?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((e) => {
    const code = (e as { extensions?: { code?: unknown } }).extensions?.code;
    return typeof code === 'string' ? [code] : [];
  });
}

export function isLinearRatelimited(err: unknown): boolean {
  const e = err as { type?: unknown; status?: unknown };
  return e.type === 'Ratelimited' || e.status === 429 || errorCodes(err).includes('RATELIMITED');
}

/** A rejected token (401 / `AUTHENTICATION_ERROR`), not a missing permission (403). */
export function isLinearTokenRejected(err: unknown): boolean {
  if (isLinearRatelimited(err)) return false;
  const e = err as { type?: unknown; status?: unknown; errors?: Array<{ type?: unknown }> };
  return (
    e.status === 401 ||
    errorCodes(err).includes('AUTHENTICATION_ERROR') ||
    e.errors?.[0]?.type === 'AuthenticationError'
  );
}

const snapshots = new WeakMap<LinearClient, LinearBudgetSnapshot>();

/** The budget Linear reported on the last answer to this client (for paging decisions). */
export function linearBudgetOf(client: LinearClient): LinearBudgetSnapshot | undefined {
  return snapshots.get(client);
}

export class LinearCallPath {
  constructor(private readonly deps: LinearCallPathDeps) {}

  get tokens(): TokenRefresher {
    return this.deps.tokens;
  }

  budgetKey(connectionId: string): string {
    return `linear:${connectionId}`;
  }

  /**
   * A client for a stored connection. Reading the token may refresh it, and throws
   * `ReauthorizationRequired` / `ConnectionGone` (see TokenRefresher).
   */
  async client(connectionId: string, options: { maxWaitMs: number }): Promise<LinearClient> {
    return this.clientWith(connectionId, await this.deps.tokens.current(connectionId), options);
  }

  /**
   * A client for a stored connection whose row was just read (`TokenRefresher.fromRow`): no
   * query now; the token is checked (and refreshed) before each call.
   */
  clientWith(
    connectionId: string,
    token: CurrentToken,
    options: { maxWaitMs: number },
  ): LinearClient {
    let current = token;
    const authorization = (t: CurrentToken) =>
      t.authType === 'oauth' ? `Bearer ${t.token}` : t.token;
    const client =
      current.authType === 'oauth'
        ? new LinearClient({ accessToken: current.token, apiUrl: this.deps.apiUrl })
        : new LinearClient({ apiKey: current.token, apiUrl: this.deps.apiUrl });
    const snapshot: LinearBudgetSnapshot = {
      requestsRemaining: null,
      requestsResetAt: null,
      complexityRemaining: null,
      complexityResetAt: null,
      lastComplexity: null,
    };
    snapshots.set(client, snapshot);
    const key = this.budgetKey(connectionId);
    const { budget, clock, tokens } = this.deps;
    const pending: Array<Promise<void>> = [];

    const record = (response: Response) => {
      const h = response.headers;
      snapshot.requestsRemaining = num(h.get('x-ratelimit-requests-remaining'));
      snapshot.requestsResetAt = epochMs(num(h.get('x-ratelimit-requests-reset')));
      snapshot.complexityRemaining = num(h.get('x-ratelimit-complexity-remaining'));
      snapshot.complexityResetAt = epochMs(num(h.get('x-ratelimit-complexity-reset')));
      snapshot.lastComplexity = num(h.get('x-complexity'));
      const retryAfter = num(h.get('retry-after'));
      const until = Math.max(
        snapshot.requestsRemaining !== null &&
          snapshot.requestsRemaining <= this.deps.lowRequests &&
          snapshot.requestsResetAt !== null
          ? snapshot.requestsResetAt
          : 0,
        snapshot.complexityRemaining !== null &&
          snapshot.complexityRemaining <= this.deps.lowComplexity &&
          snapshot.complexityResetAt !== null
          ? snapshot.complexityResetAt
          : 0,
        retryAfter !== null && response.status === 429 ? clock.now() + retryAfter * 1000 : 0,
      );
      if (until > clock.now()) pending.push(budget.blockUntil(key, until));
    };

    const call = async <T>(run: (headers: Record<string, string>) => Promise<T>): Promise<T> => {
      let refreshed = false;
      let retriedLimit = false;
      for (;;) {
        await takeTurn(budget, clock, key, {
          jitterMs: this.deps.jitterMs,
          maxWaitMs: options.maxWaitMs,
        });
        if (current.reauthorization) throw current.reauthorization;
        if (tokens.expiresSoon(current))
          current = await tokens.refresh(connectionId, current.token);
        const sent = current.token;
        try {
          return await observeResponses(record, () =>
            run({ Authorization: authorization(current) }),
          );
        } catch (thrown) {
          const err = parseLinearError(thrown as Parameters<typeof parseLinearError>[0]);
          if (isLinearRatelimited(err)) {
            const limited = err as {
              retryAfter?: number;
              requestsResetAt?: number;
              complexityResetAt?: number;
            };
            const resets = [
              epochMs(limited.requestsResetAt ?? null),
              epochMs(limited.complexityResetAt ?? null),
              limited.retryAfter ? clock.now() + limited.retryAfter * 1000 : null,
            ].filter((v): v is number => v !== null && v > clock.now());
            const until = resets.length > 0 ? Math.min(...resets) : clock.now() + 60_000;
            await budget.blockUntil(key, until);
            this.deps.log.warn(
              { connectionId, retryAt: new Date(until).toISOString() },
              'linear rate limit reached; calls wait for the reset',
            );
            if (!retriedLimit) {
              retriedLimit = true;
              continue;
            }
          } else if (isLinearTokenRejected(err) && !refreshed) {
            refreshed = true;
            current = await tokens.refresh(connectionId, sent);
            continue;
          }
          throw err;
        } finally {
          await Promise.all(pending.splice(0));
        }
      }
    };

    const gql = client.client;
    const rawRequest = gql.rawRequest.bind(gql);
    const request = gql.request.bind(gql);
    gql.rawRequest = ((query, variables, headers) =>
      call((auth) =>
        rawRequest(query, variables, { ...(headers as object), ...auth }),
      )) as typeof gql.rawRequest;
    gql.request = ((document, variables, headers) =>
      call((auth) =>
        request(document, variables, { ...(headers as object), ...auth }),
      )) as typeof gql.request;
    return client;
  }
}

/** The Linear call path of an app: token refresher (refresh grant) and shared budget. */
export function createLinearCallPath(input: CallPathInput): LinearCallPath {
  const { config } = input;
  const tokens = tokenRefresherFor(input, {
    id: 'linear',
    displayName: 'Linear',
    credentials: { clientId: config.LINEAR_CLIENT_ID, clientSecret: config.LINEAR_CLIENT_SECRET },
    refresh: (credentials, refreshToken) =>
      refreshLinearToken({ tokenUrl: config.LINEAR_OAUTH_TOKEN_URL, ...credentials }, refreshToken),
  });
  return new LinearCallPath({
    apiUrl: config.LINEAR_API_URL,
    tokens,
    budget: input.budget,
    clock: input.clock,
    log: input.log,
    lowRequests: config.LINEAR_RATE_LIMIT_LOW_REQUESTS,
    lowComplexity: config.LINEAR_RATE_LIMIT_LOW_COMPLEXITY,
    jitterMs: config.PROVIDER_RATE_LIMIT_JITTER_MS,
  });
}
