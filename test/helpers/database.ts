import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { runMigrations } from '../../src/db/migrate.ts';

/** The Postgres server tests run against, if any; embedded PGlite otherwise. */
export function testPostgresUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;
}

function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export interface TestDatabase {
  database: Database;
  /** Connection URL of this test's own database (Postgres only). */
  url: string | undefined;
  /** Closes the connection and drops the database. */
  destroy(): Promise<void>;
}

/**
 * A fresh, migrated database for one test file: a uniquely named database on the test
 * Postgres server, or an in-memory PGlite. Never shared, never mocked.
 */
export async function createTestDatabase(
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const base = testPostgresUrl();
  if (!base) {
    const database = await openDatabase({ dataDir: 'memory' });
    if (options.migrate !== false) await runMigrations(database);
    return { database, url: undefined, destroy: () => database.close() };
  }
  const name = `monoid_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = withDatabaseName(base, name);
  const database = await openDatabase({ url, poolSize: 5 });
  if (options.migrate !== false) await runMigrations(database);
  return {
    database,
    url,
    async destroy() {
      await database.close().catch(() => undefined);
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A second handle on the same test database, as a second server process would have: its own
 * pool and LISTEN connection on Postgres; the same handle on the embedded engine (one process).
 * Its `destroy` closes only what it opened.
 */
export async function secondHandle(db: TestDatabase): Promise<TestDatabase> {
  if (!db.url) return { ...db, destroy: async () => undefined };
  const database = await openDatabase({ url: db.url, poolSize: 2 });
  return { database, url: db.url, destroy: () => database.close() };
}
