import { getTableColumns, is, SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import type { Executor } from './database.ts';

/**
 * The rows of a multi-row insert as one JSON parameter: `select ... from
 * json_populate_recordset(null::<table>, $1)`, for `db.insert(table).select(...)`.
 *
 * drizzle builds `values (...)` with one parameter (and several type checks) per row and
 * column, even for the columns a row leaves to their defaults: for the engine's batches (64
 * rows of up to 21 columns, four tables) that was the worker's biggest CPU cost. Here the
 * statement has one part per column whatever the number of rows.
 *
 * Returns undefined (the caller uses `.values(rows)`) when the rows are not all alike: a column
 * set by some rows and not by others, a value given as SQL, or a column whose default is
 * computed in JavaScript.
 */
export function jsonRowsSelect<T extends PgTable>(
  table: T,
  rows: ReadonlyArray<Record<string, unknown>>,
): SQL | undefined {
  const first = rows[0];
  if (first === undefined) return undefined;
  const columns = Object.entries(getTableColumns(table) as Record<string, PgColumn>).filter(
    // drizzle's own test for generated columns (internal in its types)
    ([, column]) =>
      !(column as unknown as { shouldDisableInsert(): boolean }).shouldDisableInsert(),
  );
  const given = new Set(columns.filter(([key]) => first[key] !== undefined).map(([key]) => key));
  const records: Record<string, unknown>[] = [];
  for (const row of rows) {
    const record: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = row[key];
      if ((value !== undefined) !== given.has(key)) return undefined;
      if (value === undefined) continue;
      if (is(value, SQL)) return undefined;
      record[column.name] =
        value === null || column.columnType === 'PgJsonb' || column.columnType === 'PgJson'
          ? value
          : column.mapToDriverValue(value);
    }
    records.push(record);
  }
  const parts: SQL[] = [];
  for (const [key, column] of columns) {
    const type = sql.raw(column.getSQLType());
    if (given.has(key)) {
      parts.push(sql`v.${sql.identifier(column.name)}`);
    } else if (column.defaultFn !== undefined || column.onUpdateFn !== undefined) {
      return undefined;
    } else if (is(column.default, SQL)) {
      parts.push(sql`${column.default}`);
    } else if (column.default !== undefined) {
      parts.push(sql`${sql.param(column.default, column)}::${type}`);
    } else {
      parts.push(sql`null::${type}`);
    }
  }
  return sql`select ${sql.join(parts, sql`, `)} from json_populate_recordset(null::${table}, ${JSON.stringify(records)}::json) as v`;
}

/** `db.insert(table)` of many rows: from one JSON parameter when the rows allow it. */
export function insertRows<T extends PgTable>(
  db: Pick<Executor, 'insert'>,
  table: T,
  rows: ReadonlyArray<PgInsertValue<T>>,
) {
  const select = jsonRowsSelect(table, rows as ReadonlyArray<Record<string, unknown>>);
  return select ? db.insert(table).select(select) : db.insert(table).values([...rows]);
}
