import { PgTransaction } from 'drizzle-orm/pg-core';
import pg from 'pg';
import type { Db, Executor } from './database.ts';

/**
 * Per-database cache of prepared queries for the hottest reads (get by id, the links of a
 * page). Building a query with drizzle costs more CPU than Postgres spends answering a primary
 * key lookup; a prepared query is built once per database.
 * Transactions get no prepared query (it would run outside them): callers fall back to the
 * builder.
 */
export function preparedFor<T>(build: (db: Db) => T) {
  const cache = new WeakMap<object, T>();
  return (db: Executor): T | undefined => {
    if (db instanceof PgTransaction) return undefined;
    let prepared = cache.get(db);
    if (prepared === undefined) {
      prepared = build(db);
      cache.set(db, prepared);
    }
    return prepared;
  };
}

/**
 * The node-postgres pool under a Postgres `db` (drizzle keeps it as `$client`), for the few
 * reads that run a named statement and map rows by hand; undefined for the embedded database.
 */
export function poolOf(db: Db): pg.Pool | undefined {
  const client = (db as { $client?: unknown }).$client;
  return client instanceof pg.Pool ? client : undefined;
}
