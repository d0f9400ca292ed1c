import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/database.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import type { Clock } from '../budget/clock.ts';
import type { BudgetStore } from '../budget/provider-budget.ts';
import { OAuthGrantRefused, type OAuthTokens } from './oauth-grant.ts';
import { TokenRefresher } from './token-refresher.ts';

/** What a provider's call path is built from (its `create*CallPath` input). */
export interface CallPathInput {
  db: Db;
  box: SecretBox;
  config: Config;
  log: FastifyBaseLogger;
  clock: Clock;
  budget: BudgetStore;
  onReauthorizationRequired?: (connectionId: string, reason: string) => void;
}

/** The OAuth app credentials a refresh grant is made with. */
export interface OAuthAppCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * The token refresher of one provider's connections: the app's clock, log and margin, and
 * the provider's refresh grant. Without OAuth app credentials configured, a refresh is
 * refused (`oauth_not_configured`), which marks the connection for reauthorization.
 */
export function tokenRefresherFor(
  input: CallPathInput,
  provider: {
    id: 'linear' | 'notion';
    displayName: string;
    credentials: Partial<OAuthAppCredentials>;
    refresh: (credentials: OAuthAppCredentials, refreshToken: string) => Promise<OAuthTokens>;
  },
): TokenRefresher {
  return new TokenRefresher(
    {
      db: input.db,
      box: input.box,
      clock: input.clock,
      log: input.log,
      marginMs: input.config.PROVIDER_TOKEN_REFRESH_MARGIN_MS,
    },
    provider.id,
    async (refreshToken) => {
      const { clientId, clientSecret } = provider.credentials;
      if (!clientId || !clientSecret)
        throw new OAuthGrantRefused(provider.displayName, 'oauth_not_configured', null);
      return provider.refresh({ clientId, clientSecret }, refreshToken);
    },
    input.onReauthorizationRequired,
  );
}
