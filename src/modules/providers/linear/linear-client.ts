import type { LinearClient } from '@linear/sdk';
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/database.ts';
import { findConnectionById } from '../../integrations/integrations.repository.ts';
import type { IntegrationConnectionRow } from '../../integrations/integrations.table.ts';
import { LINEAR } from './linear.id.ts';
import { createLinearClient, type LinearCredentials } from './linear-api.ts';
import type { LinearCallPath } from './linear-call-path.ts';

/** Who waits how long for a rate-limit reset: a person in settings, or background work. */
export type CallerKind = 'interactive' | 'background';

/**
 * The one place Linear clients come from: every Linear call this server makes goes through a
 * client made here (connect flows, team lists, webhook registration, the reconciler,
 * backfills). Clients of stored connections go through the call path (`linear-call-path.ts`):
 * token refresh, the shared rate-limit budget, one retry after a 401 or `RATELIMITED`.
 */
export class LinearClients {
  constructor(private readonly deps: { db: Db; config: Config; callPath: LinearCallPath }) {}

  /** A client for credentials not stored yet (a key being connected, a fresh OAuth token). */
  forCredentials(credentials: LinearCredentials): LinearClient {
    return createLinearClient(this.deps.config.LINEAR_API_URL, credentials);
  }

  /** A client for a stored connection (its row just read). */
  forConnection(
    connection: IntegrationConnectionRow,
    caller: CallerKind = 'interactive',
  ): LinearClient {
    const { callPath, config } = this.deps;
    return callPath.clientWith(connection.id, callPath.tokens.fromRow(connection), {
      maxWaitMs:
        caller === 'interactive'
          ? config.PROVIDER_INTERACTIVE_MAX_WAIT_MS
          : config.PROVIDER_BACKGROUND_MAX_WAIT_MS,
    });
  }

  /** A client for a stored connection by id; undefined when it is gone or not Linear's. */
  async forConnectionId(
    connectionId: string,
    caller: CallerKind = 'interactive',
  ): Promise<LinearClient | undefined> {
    const connection = await findConnectionById(this.deps.db, connectionId);
    if (connection?.provider !== LINEAR) return undefined;
    return this.forConnection(connection, caller);
  }
}
