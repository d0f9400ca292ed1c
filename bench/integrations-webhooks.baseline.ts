/**
 * The same-run baseline of bench/integrations-webhooks.ts: bare Fastify + node-postgres
 * (a pool of 10, like the server's) storing each delivery with the server's own insert
 * statement, one autocommitted insert per request: no signature check, no validation, no
 * group commit. Env: DATABASE_URL, BENCH_CONNECTION_ID, PORT (0: any); prints its URL as the
 * first line of stdout.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { drizzle } from 'drizzle-orm/node-postgres';
import Fastify from 'fastify';
import pg from 'pg';
import type { Db } from '../src/db/database.ts';
import * as schema from '../src/db/schema.ts';
import { insertInboxEvents } from '../src/modules/inbox/inbox.repository.ts';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL ?? '', max: 10 });
const db = drizzle({ client: pool, schema }) as unknown as Db;
const connectionId = process.env.BENCH_CONNECTION_ID ?? '';

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) =>
  done(null, body),
);
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/webhooks/linear', async (request) => {
  const raw = request.body as Buffer;
  const payload = JSON.parse(raw.toString('utf8')) as {
    type: string;
    action: string;
    createdAt: string;
    data: { id: string; teamId: string };
  };
  const inserted = await insertInboxEvents(db, [
    {
      provider: 'linear',
      deliveryId: String(request.headers['linear-delivery'] ?? ''),
      dedupeKey: createHash('sha256').update(raw).digest('hex'),
      connectionId,
      eventType: `${payload.type}.${payload.action}`,
      entityType: payload.type,
      entityId: payload.data.id,
      teamId: payload.data.teamId,
      occurredAt: payload.createdAt,
      payloadJson: raw.toString('utf8'),
    },
  ]);
  return { received: true, duplicate: inserted.length === 0 };
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => pool.end().then(() => process.exit(0)));
});
