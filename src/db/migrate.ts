import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { Database } from './database.ts';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Any 64-bit constant will do; it only has to be the same in every process of this app. */
const MIGRATION_LOCK_ID = 7_346_221_901n;

/**
 * Applies pending migrations. Idempotent (drizzle records applied ones in
 * drizzle.__drizzle_migrations). On Postgres, a session-level advisory lock held on one
 * dedicated connection makes processes that start together take turns: the second one
 * waits, then finds nothing left to apply.
 */
export async function runMigrations(database: Database): Promise<void> {
  if (database.kind === 'pglite') {
    const pglite = database.pglite;
    if (!pglite) throw new Error('embedded database has no engine');
    await migratePglite(drizzlePglite({ client: pglite }), { migrationsFolder });
    return;
  }
  const pool = database.pool;
  if (!pool) throw new Error('postgres database has no pool');
  const client = await pool.connect();
  try {
    const db = drizzleNodePg({ client });
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    try {
      await migrateNodePg(db, { migrationsFolder });
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`);
    }
  } finally {
    client.release();
  }
}
