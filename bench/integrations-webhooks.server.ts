/**
 * The server side of bench/integrations-webhooks.ts, in its own process so that the load
 * generator does not share its event loop. Talks to the parent over IPC:
 * sends { ready, url, webhookId, secret, teamId, organizationId, engine, databaseUrl,
 * connectionId }, answers { cmd: 'count' } with { count, inserts } (inbox rows, and the insert
 * statements sent so far: each is one commit), and { cmd: 'stop' } by shutting down.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { count } from 'drizzle-orm';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { inboxEvents, users } from '../src/db/schema.ts';
import { createTestDatabase } from '../test/helpers/database.ts';
import { startFakeLinear } from '../test/helpers/fakes/linear-fake.ts';
import { countQueries } from '../test/helpers/query-count.ts';

const discard = new Writable({
  write(_chunk, _enc, done) {
    done();
  },
});

async function main(): Promise<void> {
  const testDb = await createTestDatabase();
  const linear = await startFakeLinear({ tokens: ['lin_api_bench'] });
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATA_DIR: 'memory',
    ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
    PUBLIC_BASE_URL: 'https://monoid.example',
    ...(testDb.url ? { DATABASE_URL: testDb.url, DATABASE_POOL_SIZE: '10' } : {}),
    ...linear.env(),
  });
  const app = await buildApp(config, {
    database: testDb.database,
    logStream: discard,
    skipMigrations: true,
    skipReconciler: true,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });

  const [user] = await app.database.db
    .insert(users)
    .values({ clerkId: `user_${randomUUID()}` })
    .returning();
  if (!user) throw new Error('no user');
  const connection = await app.providers.linear.connect.connectApiKey({
    workspace: { organisationId: null, userId: user.id },
    userId: user.id,
    apiKey: 'lin_api_bench',
  });
  const teamId = linear.teams[0]?.id ?? 'team';
  await app.providers.linear.registrations.ensure({
    connectionId: connection.id,
    teamId,
    reason: 'automation:bench',
  });
  const hook = [...linear.webhooks.values()][0];
  if (!hook?.secret) throw new Error('no webhook registered');

  const statements = countQueries(app.database);
  const inserts = () =>
    statements.statements.filter((s) => s.includes('insert into inbox_events')).length;
  const send = (message: unknown) => process.send?.(message);
  process.on('message', (message: { cmd?: string }) => {
    if (message.cmd === 'count') {
      void app.database.db
        .select({ n: count() })
        .from(inboxEvents)
        .then(([row]) => send({ count: Number(row?.n ?? 0), inserts: inserts() }));
    } else if (message.cmd === 'stop') {
      void (async () => {
        await app.close();
        await linear.close();
        await testDb.destroy();
        process.exit(0);
      })();
    }
  });
  send({
    ready: true,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    webhookId: hook.id,
    secret: hook.secret,
    teamId,
    organizationId: linear.organization.id,
    engine: testDb.url ? 'Postgres (node-postgres pool of 10)' : 'embedded PGlite',
    databaseUrl: testDb.url ?? null,
    connectionId: connection.id,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
