import { type Column, getTableColumns, type SQL, sql, type Table } from 'drizzle-orm';

/**
 * The `SET column = excluded.column` part of a multi-row upsert's conflict update, for the
 * given columns (drizzle keys): each row takes the values it proposed.
 */
export function fromExcluded<T extends Table, K extends keyof T['_']['columns'] & string>(
  table: T,
  keys: readonly K[],
): Record<K, SQL> {
  const columns: Record<string, Column> = getTableColumns(table);
  const set = {} as Record<K, SQL>;
  for (const key of keys) {
    const column = columns[key];
    if (column) set[key] = sql.raw(`excluded."${column.name}"`);
  }
  return set;
}
