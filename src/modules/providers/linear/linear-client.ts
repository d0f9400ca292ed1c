import type { LinearClient } from '@linear/sdk';
import type { Config } from '../../../config.ts';
import type { Db } from '../../../db/database.ts';
import type { ConnectionsService } from '../../integrations/connections.service.ts';
import { findConnectionById } from '../../integrations/integrations.repository.ts';
import type { IntegrationConnectionRow } from '../../integrations/integrations.table.ts';
import { LINEAR } from './linear.id.ts';
import { createLinearClient, type LinearCredentials } from './linear-api.ts';

/**
 * The one place Linear clients come from: every Linear call this server makes goes through a
 * client made here (connect flows, team lists, webhook registration, the reconciler,
 * backfills). Token refresh and rate-limit budgets hook in here.
 */
export class LinearClients {
  constructor(private readonly deps: { db: Db; config: Config; connections: ConnectionsService }) {}

  /** A client for credentials not stored yet (a key being connected, a fresh OAuth token). */
  forCredentials(credentials: LinearCredentials): LinearClient {
    return createLinearClient(this.deps.config.LINEAR_API_URL, credentials);
  }

  /** A client for a stored connection. */
  forConnection(connection: IntegrationConnectionRow): LinearClient {
    return this.forCredentials({
      authType: connection.authType === 'oauth' ? 'oauth' : 'api_key',
      token: this.deps.connections.accessToken(connection),
    });
  }

  /** A client for a stored connection by id; undefined when it is gone or not Linear's. */
  async forConnectionId(connectionId: string): Promise<LinearClient | undefined> {
    const connection = await findConnectionById(this.deps.db, connectionId);
    if (connection?.provider !== LINEAR) return undefined;
    return this.forConnection(connection);
  }
}
