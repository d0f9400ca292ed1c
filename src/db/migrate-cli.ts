import { loadConfig } from '../config.ts';
import { openDatabase } from './database.ts';
import { migrationsFolder, runMigrations } from './migrate.ts';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL or the embedded database. */
const config = loadConfig();
const database = await openDatabase({
  url: config.DATABASE_URL,
  dataDir: config.DATA_DIR,
  migrationsFolder,
});
try {
  await runMigrations(database);
  process.stdout.write(`migrations applied (${database.kind})\n`);
} finally {
  await database.close();
}
