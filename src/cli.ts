import { parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { type Database, openDatabase } from './db/database.ts';
import {
  acquireDataDirLock,
  DataDirLockedError,
  embeddedServerUrl,
  findEmbeddedServer,
} from './db/embedded-access.ts';
import { migrationsFolder, runMigrations } from './db/migrate.ts';
import { AppError } from './http/errors.ts';
import { ApiKeyHasher } from './modules/api-keys/api-key.hasher.ts';
import { encodeInvalidation, INVALIDATION_CHANNEL } from './modules/api-keys/api-key.verifier.ts';
import {
  findApiKeyById,
  findUserByClerkId,
  markRevoked,
} from './modules/api-keys/api-keys.repository.ts';
import {
  type ApiKeyServiceDeps,
  createApiKeyForClerkUser,
  listApiKeys,
  toApiKeyView,
} from './modules/api-keys/api-keys.service.ts';
import { isUuid } from './modules/workspaces/workspace.service.ts';

/**
 * Operator CLI: `npm run cli -- keys create|list|revoke ...`.
 *
 * Works on DATABASE_URL or on the embedded database, whether or not the server runs: with the
 * server up on the embedded database, it goes through the server's local socket (the server
 * then sees revocations at once, via NOTIFY); with it down, it opens the data directory
 * itself, holding the directory's lock while it does.
 */

const usage = `Usage:
  npm run cli -- keys create --user <clerkUserId> --name <name> --scopes read,write[,delete] [--expires-at <ISO>] [--workspace personal|<organisationId>] [--json]
  npm run cli -- keys list --user <clerkUserId> [--json]
  npm run cli -- keys revoke <keyId> [--reason <text>] [--json]
`;

class UsageError extends Error {}

interface Connection {
  database: Database;
  via: 'postgres' | 'embedded-server' | 'embedded-direct';
  close(): Promise<void>;
}

async function connect(config: Config): Promise<Connection> {
  if (config.DATABASE_URL) {
    const database = await openDatabase({ url: config.DATABASE_URL, poolSize: 2 });
    await runMigrations(database);
    return { database, via: 'postgres', close: () => database.close() };
  }
  const deadline = Date.now() + 20_000;
  for (;;) {
    const server = await findEmbeddedServer(config.DATA_DIR);
    if (server) {
      const database = await openDatabase({ url: embeddedServerUrl(server), poolSize: 1 });
      return { database, via: 'embedded-server', close: () => database.close() };
    }
    try {
      const release = await acquireDataDirLock(config.DATA_DIR, { waitMs: 2_000 });
      try {
        const database = await openDatabase({ dataDir: config.DATA_DIR, migrationsFolder });
        await runMigrations(database);
        return {
          database,
          via: 'embedded-direct',
          close: async () => {
            await database.close();
            release();
          },
        };
      } catch (err) {
        release();
        throw err;
      }
    } catch (err) {
      // A server is starting (it holds the lock but is not serving yet): ask it again.
      if (!(err instanceof DataDirLockedError) || Date.now() > deadline) throw err;
    }
  }
}

function parseScopes(value: string | undefined): string[] {
  if (!value) throw new UsageError('--scopes is required (e.g. --scopes read,write)');
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function parseDate(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--expires-at is not a date: ${value}`);
  return date;
}

const iso = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());

async function main(argv: string[], config: Config): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      name: { type: 'string' },
      scopes: { type: 'string' },
      'expires-at': { type: 'string' },
      reason: { type: 'string' },
      workspace: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [group, command, ...rest] = positionals;
  if (values.help || group !== 'keys' || !command) {
    process.stdout.write(usage);
    return values.help ? 0 : 2;
  }
  const out = (text: string) => process.stdout.write(`${text}\n`);

  // Validate arguments before touching the database.
  if (command === 'create' || command === 'list') {
    if (!values.user) throw new UsageError('--user <clerkUserId> is required');
  }
  if (command === 'create' && !values.name) throw new UsageError('--name is required');
  if (command === 'revoke' && !rest[0]) throw new UsageError('revoke needs a key id');
  if (!['create', 'list', 'revoke'].includes(command)) {
    throw new UsageError(`unknown command: keys ${command}`);
  }
  const scopes = command === 'create' ? parseScopes(values.scopes) : [];
  const expiresAt = parseDate(values['expires-at']);

  const connection = await connect(config);
  try {
    const { database } = connection;
    const deps: ApiKeyServiceDeps = {
      database,
      hasher: new ApiKeyHasher(
        {
          memoryCost: config.API_KEY_ARGON2_MEMORY_KIB,
          timeCost: config.API_KEY_ARGON2_TIME_COST,
          parallelism: config.API_KEY_ARGON2_PARALLELISM,
        },
        { concurrency: 1, queueMax: 1 },
      ),
      // Running servers drop cached entries when they receive this.
      invalidate: (target) => database.notify(INVALIDATION_CHANNEL, encodeInvalidation(target)),
    };

    if (command === 'create') {
      const created = await createApiKeyForClerkUser(deps, {
        clerkUserId: values.user ?? '',
        name: values.name ?? '',
        scopes,
        expiresAt,
        workspace: values.workspace ?? null,
      });
      const view = toApiKeyView(created.apiKey, Date.now());
      if (values.json) {
        out(
          JSON.stringify({
            ...view,
            key: created.key,
            userId: created.userId,
            clerkUserId: values.user,
          }),
        );
      } else {
        out(`Created API key "${view.name}" (${view.id}) for ${values.user}`);
        out(`  scopes: ${view.scopes.join(', ')}; expires: ${iso(view.expiresAt)}`);
        if (view.workspace) out(`  workspace: ${view.workspace}`);
        out('');
        out(`  ${created.key}`);
        out('');
        out('Store it now: it cannot be shown again.');
      }
      return 0;
    }

    if (command === 'list') {
      const user = await findUserByClerkId(database.db, values.user ?? '');
      const rows = user ? await listApiKeys(deps, user.id) : [];
      const now = Date.now();
      const views = rows.map((row) => toApiKeyView(row, now));
      if (values.json) {
        out(JSON.stringify(views));
      } else if (views.length === 0) {
        out(`No API keys for ${values.user}.`);
      } else {
        for (const v of views) {
          out(
            [
              v.id,
              v.displayKey,
              v.status.padEnd(7),
              v.scopes.join(',').padEnd(17),
              `last used ${iso(v.lastUsedAt)}`,
              `expires ${iso(v.expiresAt)}`,
              JSON.stringify(v.name),
            ].join('  '),
          );
        }
      }
      return 0;
    }

    // revoke: one statement (no transaction), then the notification. Not revokeApiKey(): through
    // the embedded database's socket a CLI transaction could interleave with the server's.
    const id = rest[0] ?? '';
    if (!isUuid(id)) {
      throw new UsageError(`not a key id: ${id}`);
    }
    const revoked =
      (await markRevoked(database.db, {
        id,
        at: new Date(),
        reason: values.reason?.trim() || 'revoked by operator',
      })) ?? (await findApiKeyById(database.db, id));
    if (!revoked) {
      process.stderr.write(`No API key ${id}.\n`);
      return 1;
    }
    await deps.invalidate({ keyId: id });
    const view = toApiKeyView(revoked, Date.now());
    if (values.json) out(JSON.stringify(view));
    else out(`Revoked API key "${view.name}" (${view.id}) at ${iso(view.revokedAt)}.`);
    return 0;
  } finally {
    await connection.close();
  }
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String(err)}\n`);
  process.exit(1);
}
try {
  process.exitCode = await main(process.argv.slice(2), config);
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n\n${usage}`);
    process.exitCode = 2;
  } else if (err instanceof AppError) {
    const details = err.errors?.map((e) => `  ${e.path.replace(/^body\./, '')}: ${e.message}`);
    process.stderr.write(`${err.message}\n${details ? `${details.join('\n')}\n` : ''}`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
