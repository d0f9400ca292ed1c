import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type ExtractTablesWithRelations, sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** The query builder both back ends share; repositories accept this or a transaction. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything a repository function can run a query on. */
export type Executor = Db | Tx;

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Db;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Subscribes to a NOTIFY channel; the returned function unsubscribes. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
  /** The embedded engine, when there is one (migrations, tooling). */
  readonly pglite?: PGlite;
  /** The node-postgres pool, when on Postgres. */
  readonly pool?: pg.Pool;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded engine is used. */
  url?: string | undefined;
  /** Directory for the embedded engine's files, or 'memory' for a throwaway instance. */
  dataDir?: string;
  /**
   * Migrations applied when a new embedded cluster is created (in the process that creates it,
   * whose memory is then given back); `runMigrations` still applies any later ones.
   */
  migrationsFolder?: string;
  poolSize?: number;
  /** Called for errors on idle pool clients (a restarted Postgres), which must not crash us. */
  onBackgroundError?: (err: Error) => void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options, options.url) : openPglite(options);
}

async function openPostgres(options: DatabaseOptions, url: string): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection emits 'error' on the pool; unhandled, that would
  // kill the process during a Postgres restart. The next query simply gets a new client.
  pool.on('error', (err) => options.onBackgroundError?.(err));
  const db = drizzleNodePg({ client: pool, schema }) as unknown as Db;

  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listenClient: pg.Client | undefined;
  let closed = false;

  const connectListener = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', (err) => {
      options.onBackgroundError?.(err);
      if (listenClient === client) listenClient = undefined;
      // Reconnect in the background so notifications resume after a database restart.
      if (!closed) setTimeout(() => void ensureListener().catch(() => undefined), 1_000);
    });
    client.on('notification', (msg) => {
      for (const handler of listeners.get(msg.channel) ?? []) handler(msg.payload ?? '');
    });
    await client.connect();
    for (const channel of listeners.keys()) await client.query(`LISTEN "${channel}"`);
    return client;
  };
  const ensureListener = async (): Promise<pg.Client> => {
    if (!listenClient) listenClient = await connectListener();
    return listenClient;
  };

  return {
    kind: 'postgres',
    db,
    pool,
    async ping(timeoutMs = 2_000) {
      await withTimeout(pool.query('select 1'), timeoutMs, 'database ping');
    },
    async listen(channel, onMessage) {
      assertChannel(channel);
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        const client = await ensureListener();
        await client.query(`LISTEN "${channel}"`);
      }
      set.add(onMessage);
      return async () => {
        set.delete(onMessage);
      };
    },
    async notify(channel, payload) {
      await db.execute(sql`select pg_notify(${channel}, ${payload})`);
    },
    async close() {
      closed = true;
      const client = listenClient;
      listenClient = undefined;
      await client?.end().catch(() => undefined);
      await pool.end();
    },
  };
}

/**
 * The embedded engine's memory is a WebAssembly heap that grows and never shrinks, and
 * Postgres' defaults (128 MB of shared buffers, 4-64 MB per sort or index build) are sized
 * for a server of its own. One process with a small data set does well with much less: this
 * keeps an idle embedded server near 300 MB RSS instead of 900 MB (docs/benchmarks.md).
 */
export const embeddedPostgresSettings = [
  'shared_buffers=16MB',
  'temp_buffers=2MB',
  'work_mem=2MB',
  'maintenance_work_mem=8MB',
  'wal_buffers=1MB',
];

/**
 * Creating a cluster (initdb, in WebAssembly) and migrating it grow the engine's heap to
 * ~700 MB, and neither a WebAssembly heap nor the allocator's arenas are given back while the
 * process lives: closing the engine and opening a new one (or doing the work in a worker
 * thread) left a first start at 400-700 MB RSS. So a short-lived child process creates the
 * cluster in a sibling directory and applies the migrations, its memory goes with it, the
 * directory is moved into place (a crash never leaves a half-made cluster that looks whole), and
 * the server opens it like an existing one (docs/benchmarks.md, start-up). The child's code is
 * inline so it runs the same from the sources (tsx) and from the build (dist/).
 */
async function createClusterInChild(
  dir: string,
  settings: { postgresqlconf: string[] },
  migrationsFolder: string | undefined,
): Promise<void> {
  const code = `const env = process.env;
const { PGlite } = await import(env.PGLITE_MODULE);
const engine = new PGlite(env.PGLITE_DIR, JSON.parse(env.PGLITE_SETTINGS));
await engine.waitReady;
if (env.PGLITE_MIGRATIONS) {
  const { drizzle } = await import(env.PGLITE_DRIZZLE);
  const { migrate } = await import(env.PGLITE_MIGRATOR);
  await migrate(drizzle({ client: engine }), { migrationsFolder: env.PGLITE_MIGRATIONS });
}
await engine.close();`;
  const creating = `${dir}.creating`;
  rmSync(creating, { recursive: true, force: true });
  mkdirSync(creating, { recursive: true });
  const env = {
    ...process.env,
    PGLITE_MODULE: import.meta.resolve('@electric-sql/pglite'),
    PGLITE_DRIZZLE: import.meta.resolve('drizzle-orm/pglite'),
    PGLITE_MIGRATOR: import.meta.resolve('drizzle-orm/pglite/migrator'),
    PGLITE_MIGRATIONS: migrationsFolder ?? '',
    PGLITE_DIR: creating,
    PGLITE_SETTINGS: JSON.stringify(settings),
  };
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2_000);
    });
    child.once('error', reject);
    child.once('exit', (exitCode, signal) =>
      exitCode === 0
        ? resolve()
        : reject(
            new Error(
              `creating the embedded database failed (exit ${exitCode ?? signal}): ${stderr.trim()}`,
            ),
          ),
    );
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(creating, dir);
}

async function openPglite(options: DatabaseOptions): Promise<Database> {
  const dataDir = options.dataDir ?? 'memory';
  const settings = { postgresqlconf: embeddedPostgresSettings };
  let client: PGlite;
  if (dataDir === 'memory') {
    client = new PGlite(settings);
  } else {
    const dir = join(dataDir, 'pglite');
    if (!existsSync(join(dir, 'PG_VERSION')))
      await createClusterInChild(dir, settings, options.migrationsFolder);
    client = new PGlite(dir, settings);
  }
  await client.waitReady;
  const db = drizzlePglite({ client, schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    pglite: client,
    async ping(timeoutMs = 2_000) {
      if (client.closed) throw new Error('embedded database is closed');
      await withTimeout(client.query('select 1'), timeoutMs, 'database ping');
    },
    async listen(channel, onMessage) {
      assertChannel(channel);
      const unsubscribe = await client.listen(channel, onMessage);
      return unsubscribe;
    },
    async notify(channel, payload) {
      await db.execute(sql`select pg_notify(${channel}, ${payload})`);
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}

// Channel names are interpolated into LISTEN, which takes no bind parameters.
function assertChannel(channel: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel name: ${channel}`);
}
