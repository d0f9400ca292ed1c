import { eq } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../../../db/database.ts';
import { integrationConnections } from '../../../db/schema.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import { SECRET_CONTEXT } from '../../integrations/secret-contexts.ts';
import type { Clock } from '../budget/clock.ts';
import { BudgetExhausted } from '../budget/provider-budget.ts';
import { OAuthGrantRefused, type OAuthTokens } from './oauth-grant.ts';

/** The token of a connection as a call path uses it. Never log `token`. */
export interface CurrentToken {
  authType: 'oauth' | 'api_key' | 'internal_token';
  token: string;
  /** Epoch ms, or null when the token does not expire (API keys, internal tokens). */
  expiresAt: number | null;
  /** When this token was obtained (epoch ms); with `expiresAt` it gives the lifetime. */
  issuedAt: number | null;
}

/**
 * The connection needs a person to authorize again (the refresh was refused, or there is no
 * refresh token to use). Its status is `reauthorization_required`; settings answer 409.
 */
export class ReauthorizationRequired extends Error {
  constructor(
    readonly provider: string,
    readonly connectionId: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'ReauthorizationRequired';
  }
}

/** The connection no longer exists (disconnected meanwhile). */
export class ConnectionGone extends Error {
  constructor(readonly connectionId: string) {
    super('the connection no longer exists');
    this.name = 'ConnectionGone';
  }
}

export interface TokenRefresherDeps {
  db: Db;
  box: SecretBox;
  clock: Clock;
  log: FastifyBaseLogger;
  /**
   * Refresh this long before expiry. Capped at half the token's lifetime, so a short-lived
   * token is not refreshed on every call.
   */
  marginMs: number;
}

type Outcome =
  | { kind: 'token'; token: CurrentToken; refreshed: boolean }
  | { kind: 'reauth'; reason: string }
  | { kind: 'gone' };

/**
 * Access tokens of one provider's OAuth connections, refreshed with the stored refresh token
 * before they expire (`marginMs`) and once after the provider rejects one. Providers rotate
 * refresh tokens (the old one stops working once used), so exactly one refresher may use it:
 * the refresh runs in a transaction holding the connection row (`FOR NO KEY UPDATE`, which
 * does not conflict with the key-share lock the webhook code holds), and a refresher that
 * finds the stored token already replaced (compare with the token it saw) uses that result
 * instead of refreshing again. The new tokens are committed before anyone uses them.
 */
export class TokenRefresher {
  constructor(
    private readonly deps: TokenRefresherDeps,
    readonly provider: 'linear' | 'notion',
    private readonly grant: (refreshToken: string) => Promise<OAuthTokens>,
    private readonly onReauthorizationRequired?: (connectionId: string, reason: string) => void,
  ) {}

  /** Whether `token` expires within the margin (capped at half its lifetime). */
  expiresSoon(token: CurrentToken): boolean {
    if (token.authType !== 'oauth' || token.expiresAt === null) return false;
    const lifetime =
      token.issuedAt === null ? Number.POSITIVE_INFINITY : token.expiresAt - token.issuedAt;
    const margin = Math.min(this.deps.marginMs, Math.max(0, lifetime / 2));
    return token.expiresAt - margin <= this.deps.clock.now();
  }

  #read(row: typeof integrationConnections.$inferSelect): CurrentToken {
    return {
      authType: row.authType,
      token: this.deps.box.open(row.accessTokenEnc, SECRET_CONTEXT.accessToken),
      expiresAt: row.tokenExpiresAt?.getTime() ?? null,
      issuedAt: row.tokenIssuedAt?.getTime() ?? null,
    };
  }

  /** The connection's token, refreshed first when it expires within the margin. */
  async current(connectionId: string): Promise<CurrentToken> {
    const [row] = await this.deps.db
      .select()
      .from(integrationConnections)
      .where(eq(integrationConnections.id, connectionId))
      .limit(1);
    if (!row) throw new ConnectionGone(connectionId);
    if (row.status === 'reauthorization_required')
      throw new ReauthorizationRequired(this.provider, connectionId, row.lastError ?? 'reconnect');
    const token = this.#read(row);
    return this.expiresSoon(token) ? this.refresh(connectionId, token.token) : token;
  }

  /**
   * Replaces `stale` (the token the caller has, expiring or just rejected) unless another
   * refresher already did; returns the token to use. Throws `ReauthorizationRequired` when
   * the provider refuses the refresh token (the connection is marked), `ConnectionGone`, or
   * the token endpoint's own failure (nothing is changed; retry later).
   */
  async refresh(connectionId: string, stale: string): Promise<CurrentToken> {
    const { db, box, clock } = this.deps;
    const outcome = await db.transaction(async (tx): Promise<Outcome> => {
      const [row] = await tx
        .select()
        .from(integrationConnections)
        .where(eq(integrationConnections.id, connectionId))
        .for('no key update')
        .limit(1);
      if (!row) return { kind: 'gone' };
      if (row.status === 'reauthorization_required')
        return { kind: 'reauth', reason: row.lastError ?? 'reconnect' };
      const stored = this.#read(row);
      // Another process or instance refreshed while we waited for the row: use its token.
      if (stored.token !== stale && !this.expiresSoon(stored))
        return { kind: 'token', token: stored, refreshed: false };
      const markReauth = async (reason: string): Promise<Outcome> => {
        await tx
          .update(integrationConnections)
          .set({
            status: 'reauthorization_required',
            lastError: reason,
            lastErrorAt: new Date(clock.now()),
            updatedAt: new Date(),
          })
          .where(eq(integrationConnections.id, connectionId));
        return { kind: 'reauth', reason };
      };
      if (stored.authType !== 'oauth' || !row.refreshTokenEnc)
        return markReauth(
          `${this.name} rejected the ${stored.authType === 'oauth' ? 'access token and there is no refresh token' : 'credentials'}; reconnect ${this.name}.`,
        );
      let tokens: OAuthTokens;
      try {
        tokens = await this.grant(box.open(row.refreshTokenEnc, SECRET_CONTEXT.refreshToken));
      } catch (err) {
        if (err instanceof OAuthGrantRefused)
          return markReauth(
            `${this.name} refused the refresh token (${err.error}); reconnect ${this.name}.`,
          );
        throw err;
      }
      const now = clock.now();
      const next: CurrentToken = {
        authType: 'oauth',
        token: tokens.accessToken,
        expiresAt: tokens.expiresIn ? now + tokens.expiresIn * 1000 : null,
        issuedAt: now,
      };
      await tx
        .update(integrationConnections)
        .set({
          accessTokenEnc: box.seal(next.token, SECRET_CONTEXT.accessToken),
          // Rotation: the old refresh token no longer works once used.
          ...(tokens.refreshToken
            ? { refreshTokenEnc: box.seal(tokens.refreshToken, SECRET_CONTEXT.refreshToken) }
            : {}),
          ...(tokens.scope ? { scopes: tokens.scope } : {}),
          tokenExpiresAt: next.expiresAt === null ? null : new Date(next.expiresAt),
          tokenIssuedAt: new Date(now),
          ...(row.status === 'error' ? { status: 'active' as const, lastError: null } : {}),
          updatedAt: new Date(),
        })
        .where(eq(integrationConnections.id, connectionId));
      return { kind: 'token', token: next, refreshed: true };
    });
    if (outcome.kind === 'gone') throw new ConnectionGone(connectionId);
    if (outcome.kind === 'reauth') {
      this.deps.log.warn(
        { connectionId, provider: this.provider, reason: outcome.reason },
        'provider connection needs reauthorization',
      );
      this.onReauthorizationRequired?.(connectionId, outcome.reason);
      throw new ReauthorizationRequired(this.provider, connectionId, outcome.reason);
    }
    if (outcome.refreshed)
      this.deps.log.info({ connectionId, provider: this.provider }, 'provider token refreshed');
    return outcome.token;
  }

  get name(): string {
    return this.provider === 'linear' ? 'Linear' : 'Notion';
  }
}

/**
 * The call path's own refusal behind an SDK error, if that is what it is: `@linear/sdk` wraps
 * whatever its request function throws in a `LinearError` (the original in `.raw`).
 */
export function lifecycleFailure(
  err: unknown,
): ReauthorizationRequired | ConnectionGone | BudgetExhausted | undefined {
  for (const candidate of [err, (err as { raw?: unknown } | null)?.raw])
    if (
      candidate instanceof ReauthorizationRequired ||
      candidate instanceof ConnectionGone ||
      candidate instanceof BudgetExhausted
    )
      return candidate;
  return undefined;
}
