/**
 * The baseline of bench/public-api.ts and bench/hot-path.ts: a bare Fastify + pg server
 * answering the benchmarked routes with the SAME SQL the API runs per request (organisation
 * access, the task query, the external-links query; taken from the API's own query builders),
 * without key verification, validation, response schemas or the service layer; and
 * `GET /healthz` as bare Fastify answers it.
 * Env: DATABASE_URL, PORT, BENCH_USER_ID.
 */
import { and, eq, isNull } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import Fastify from 'fastify';
import pg from 'pg';
import type { Db } from '../src/db/database.ts';
import * as schema from '../src/db/schema.ts';
import { listLinksQuery } from '../src/modules/external-links/external-links.repository.ts';
import { memberships, organisations } from '../src/modules/identity/identity.table.ts';
import { findTaskQuery, taskListQuery } from '../src/modules/tasks/tasks.repository.ts';

const url = process.env.DATABASE_URL ?? '';
const userId = process.env.BENCH_USER_ID ?? '';
const pool = new pg.Pool({ connectionString: url, max: 10 });
const db = drizzle({ client: pool, schema }) as unknown as Db;

// The query of identity.repository.ts listOrganisationAccess, run by the API on every request.
const access = db
  .select({ organisationId: memberships.organisationId, role: memberships.role })
  .from(memberships)
  .innerJoin(organisations, eq(organisations.id, memberships.organisationId))
  .where(
    and(
      eq(memberships.userId, userId),
      isNull(memberships.deletedAt),
      isNull(organisations.deletedAt),
    ),
  )
  .toSQL();
// `?bucket=todo&limit=100` (bench/public-api.ts) and `?limit=100` (bench/hot-path.ts).
const lists = {
  todo: taskListQuery(db, {
    workspaceIds: [userId],
    bucket: 'todo',
    limit: 100,
    offset: 0,
  }).toSQL(),
  all: taskListQuery(db, { workspaceIds: [userId], limit: 100, offset: 0 }).toSQL(),
};
// Queries with placeholders: bind them in order, as drizzle does.
const one = findTaskQuery(db).toSQL();
const linksSql = listLinksQuery(db).toSQL();
const bind = (params: unknown[], values: Record<string, unknown>) =>
  params.map((p) =>
    p && typeof p === 'object' && 'name' in p ? values[String((p as { name: string }).name)] : p,
  );
const links = (ids: string[]) => ({
  sql: linksSql.sql,
  params: bind(linksSql.params, { entityType: 'task', entityIds: ids }),
});

type Row = Record<string, unknown>;
// snake_case → camelCase names, computed once per column name.
const names = new Map<string, string>();
const camelName = (k: string) => {
  let name = names.get(k);
  if (name === undefined) {
    name = k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    names.set(k, name);
  }
  return name;
};
const camel = (row: Row) => {
  const out: Row = {};
  for (const k in row) out[camelName(k)] = row[k];
  return out;
};

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get<{ Querystring: { bucket?: string } }>('/api/v1/tasks', async (request) => {
  const list = request.query.bucket === 'todo' ? lists.todo : lists.all;
  await pool.query(access.sql, access.params);
  const rows = (await pool.query(list.sql, list.params)).rows as Row[];
  const l = links(rows.map((r) => String(r.id)));
  const linkRows = rows.length ? (await pool.query(l.sql, l.params)).rows : [];
  return { data: rows.map((r) => ({ ...camel(r), externalLinks: linkRows })) };
});
app.get<{ Params: { id: string } }>('/api/v1/tasks/:id', async (request, reply) => {
  await pool.query(access.sql, access.params);
  const params = bind(one.params, { id: request.params.id, workspaceIds: [userId] });
  const row = (await pool.query(one.sql, params)).rows[0] as Row | undefined;
  if (!row) return reply.code(404).send({ error: true });
  const l = links([String(row.id)]);
  const linkRows = (await pool.query(l.sql, l.params)).rows;
  return { data: { ...camel(row), externalLinks: linkRows } };
});
await app.listen({ port: Number(process.env.PORT ?? 3999), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => pool.end().then(() => process.exit(0)));
});
