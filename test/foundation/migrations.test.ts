import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { migrationsFolder, runMigrations } from '../../src/db/migrate.ts';
import { createTestDatabase, testPostgresUrl } from '../helpers/database.ts';

async function tableNames(db: Awaited<ReturnType<typeof openDatabase>>): Promise<string[]> {
  const result = (await db.db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by 1`,
  )) as unknown as { rows: Array<{ table_name: string }> };
  return result.rows.map((r) => r.table_name);
}

async function countApplied(db: Awaited<ReturnType<typeof openDatabase>>): Promise<number> {
  const result = (await db.db.execute(
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  )) as unknown as { rows: Array<{ n: number }> };
  return result.rows[0]?.n ?? 0;
}

describe('migrations', () => {
  it('apply to an empty database, and again with no effect', async () => {
    const t = await createTestDatabase({ migrate: false });
    try {
      expect(await tableNames(t.database)).toEqual([]);
      await runMigrations(t.database);
      const tables = await tableNames(t.database);
      expect(tables).toEqual(expect.arrayContaining(['users', 'organisations', 'memberships']));
      const applied = await countApplied(t.database);
      await runMigrations(t.database);
      expect(await countApplied(t.database)).toBe(applied);
      expect(applied).toBeGreaterThan(0);
      expect(await tableNames(t.database)).toEqual(tables);
    } finally {
      await t.destroy();
    }
  });

  it('a new embedded data directory is created and migrated in a child process, replacing a half-made one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'monoid-first-start-'));
    try {
      // What a start killed during initdb leaves: the directory without PG_VERSION.
      mkdirSync(join(dataDir, 'pglite'), { recursive: true });
      writeFileSync(join(dataDir, 'pglite', 'postgresql.conf'), '# half made\n');
      const database = await openDatabase({ dataDir, migrationsFolder });
      try {
        expect(await tableNames(database)).toEqual(
          expect.arrayContaining(['users', 'organisations', 'memberships']),
        );
        const applied = await countApplied(database);
        expect(applied).toBeGreaterThan(0);
        await runMigrations(database);
        expect(await countApplied(database)).toBe(applied);
      } finally {
        await database.close();
      }
      expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
      expect(readdirSync(dataDir)).toEqual(['pglite']);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it.runIf(testPostgresUrl())(
    'are safe when several processes start at once (Postgres)',
    async () => {
      const t = await createTestDatabase({ migrate: false });
      const others = await Promise.all(
        [1, 2, 3].map(() => openDatabase({ url: t.url, poolSize: 2 })),
      );
      try {
        await Promise.all([t.database, ...others].map((d) => runMigrations(d)));
        const journal = await import('../../migrations/meta/_journal.json', {
          with: { type: 'json' },
        });
        expect(await countApplied(t.database)).toBe(journal.default.entries.length);
      } finally {
        await Promise.all(others.map((d) => d.close()));
        await t.destroy();
      }
    },
  );
});
