import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Database } from '../../src/db/database.ts';
import { memberships, organisations, users } from '../../src/modules/identity/identity.table.ts';
import { createTestKey } from './api-keys.ts';
import { buildTestApp, type TestApp } from './app.ts';

/** Env for fast key hashing and no failure throttling in API tests. */
export const apiTestEnv = {
  API_KEY_ARGON2_MEMORY_KIB: '1024',
  API_KEY_ARGON2_TIME_COST: '1',
  API_KEY_FAILURE_LIMIT: '100000',
  API_RATE_LIMIT_PER_MINUTE: '100000',
  ADDRESS_RATE_LIMIT_PER_MINUTE: '100000',
};

export function buildApiTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  return buildTestApp({ env: { ...apiTestEnv, ...env } });
}

/** Seeds an organisation and live memberships straight into the identity tables. */
export async function seedOrganisation(
  database: Database,
  input: { name?: string; members: Array<{ userId: string; role?: string }> },
): Promise<{ id: string; clerkId: string }> {
  const clerkId = `org_test_${randomBytes(6).toString('hex')}`;
  const [org] = await database.db
    .insert(organisations)
    .values({ clerkId, name: input.name ?? 'Test org' })
    .returning();
  if (!org) throw new Error('no org');
  for (const m of input.members) {
    await database.db
      .insert(memberships)
      .values({ userId: m.userId, organisationId: org.id, role: m.role ?? 'org:member' });
  }
  return { id: org.id, clerkId };
}

export async function endMembership(
  database: Database,
  input: { userId: string; organisationId: string },
): Promise<void> {
  await database.db.execute(
    sql`update ${memberships} set deleted_at = now() where user_id = ${input.userId} and organisation_id = ${input.organisationId}`,
  );
}

export async function setUserEmail(database: Database, userId: string, email: string) {
  await database.db.execute(sql`update ${users} set email = ${email} where id = ${userId}`);
}

/** A user with a key, and a small client that sends requests with it. */
export interface ApiUser {
  key: string;
  keyId: string;
  userId: string;
  clerkUserId: string;
  request(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

export function clientFor(app: FastifyInstance, key: string) {
  return (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}`, ...headers },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
}

export async function createApiUser(
  app: FastifyInstance,
  opts: Parameters<typeof createTestKey>[1] = {},
): Promise<ApiUser> {
  const k = await createTestKey(app, opts);
  return { ...k, request: clientFor(app, k.key) };
}

/** `{ data }` of a response, asserting the status first (with the body in the message). */
export function dataOf<T = Record<string, unknown>>(res: LightMyRequestResponse, status = 200): T {
  if (res.statusCode !== status) {
    throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  }
  return (res.json() as { data: T }).data;
}
