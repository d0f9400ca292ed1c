import { defineConfig } from 'drizzle-kit';

// Generation only diffs the TypeScript schema against migrations/; it needs no database.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/modules/*/*.table.ts', './src/modules/*/*/*.table.ts'],
  out: './migrations',
});
