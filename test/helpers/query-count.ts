import type { Database } from '../../src/db/database.ts';

/**
 * Counts the SQL statements an app sends, at the driver (node-postgres pool or PGlite), so a
 * test can assert that a code path issues no query at all. Returns the live counter and a
 * restore function. Statements run inside transactions on Postgres (pool.connect) are not
 * counted; the paths measured with this helper do not use transactions.
 */
export function countQueries(database: Database): {
  readonly count: number;
  readonly statements: string[];
  reset(): void;
  restore(): void;
} {
  const statements: string[] = [];
  const restores: Array<() => void> = [];
  const wrap = (target: object, method: string) => {
    const holder = target as Record<string, unknown>;
    const original = holder[method];
    if (typeof original !== 'function') return;
    holder[method] = function (this: unknown, ...args: unknown[]) {
      const first = args[0];
      statements.push(
        typeof first === 'string'
          ? first
          : String((first as { text?: unknown } | undefined)?.text ?? method),
      );
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
    restores.push(() => {
      holder[method] = original;
    });
  };
  if (database.pool) wrap(database.pool, 'query');
  if (database.pglite) {
    wrap(database.pglite, 'query');
    wrap(database.pglite, 'exec');
    wrap(database.pglite, 'transaction');
  }
  return {
    get count() {
      return statements.length;
    },
    statements,
    reset() {
      statements.length = 0;
    },
    restore() {
      for (const r of restores.reverse()) r();
    },
  };
}
