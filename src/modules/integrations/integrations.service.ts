import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { ConnectionsService } from './connections.service.ts';
import type { ConnectionProvider } from './integration.provider.ts';
import { findConnectionById } from './integrations.repository.ts';
import type { ConnectionAuthType, ProviderId } from './integrations.table.ts';
import { loadEncryptionKey, SecretBox } from './secret-box.ts';
import { SECRET_CONTEXT } from './secret-contexts.ts';

export interface ConnectionCredentials {
  connectionId: string;
  provider: ProviderId;
  authType: ConnectionAuthType;
  /** The decrypted access token. Never log it. */
  accessToken: string;
  organisationId: string | null;
  userId: string | null;
}

/** The secret box for this configuration (`ENCRYPTION_KEY`, or the embedded database's key file). */
export function openSecretBox(config: Config): SecretBox {
  const key = loadEncryptionKey({
    encryptionKey: config.ENCRYPTION_KEY,
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    nodeEnv: config.NODE_ENV,
  });
  return new SecretBox(key.key);
}

/**
 * The integrations feature as other features see it (`app.integrations`): connections and
 * their encrypted credentials, for any provider in the registry.
 */
export class IntegrationsService {
  readonly connections: ConnectionsService;

  constructor(
    private readonly deps: {
      database: Database;
      box: SecretBox;
      providers(): readonly ConnectionProvider[];
      onChange(): void;
      lastEventAt(connectionId: string): Promise<Date | null>;
    },
  ) {
    this.connections = new ConnectionsService({
      db: deps.database.db,
      box: deps.box,
      providers: deps.providers,
      onChange: deps.onChange,
      lastEventAt: deps.lastEventAt,
    });
  }

  get providers(): readonly ConnectionProvider[] {
    return this.deps.providers();
  }

  /** The decrypted credentials of a connection, or undefined when it no longer exists. */
  async credentials(connectionId: string): Promise<ConnectionCredentials | undefined> {
    const row = await findConnectionById(this.deps.database.db, connectionId);
    if (!row) return undefined;
    return {
      connectionId: row.id,
      provider: row.provider,
      authType: row.authType,
      accessToken: this.deps.box.open(row.accessTokenEnc, SECRET_CONTEXT.accessToken),
      organisationId: row.organisationId,
      userId: row.userId,
    };
  }
}
