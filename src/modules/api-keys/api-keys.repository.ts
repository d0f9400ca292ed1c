import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { preparedFor } from '../../db/prepared.ts';
import { organisations, users } from '../identity/identity.table.ts';
import { type ApiKeyRow, apiKeyAddresses, apiKeys, type NewApiKeyRow } from './api-keys.table.ts';

export async function insertApiKey(db: Executor, row: NewApiKeyRow): Promise<ApiKeyRow> {
  const [inserted] = await db.insert(apiKeys).values(row).returning();
  if (!inserted) throw new Error('insert into api_keys returned no row');
  return inserted;
}

export interface KeyForVerification {
  id: string;
  userId: string;
  name: string;
  secretHash: string;
  scopes: ApiKeyRow['scopes'];
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  userDeletedAt: Date | null;
  workspaceId: string | null;
}

/** The one query of a cold verification: by the unique public id, with the owner's state. */
export async function findKeyForVerification(
  db: Executor,
  publicId: string,
): Promise<KeyForVerification | undefined> {
  const [row] = await db
    .select({
      id: apiKeys.id,
      userId: apiKeys.userId,
      name: apiKeys.name,
      secretHash: apiKeys.secretHash,
      scopes: apiKeys.scopes,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
      lastUsedAt: apiKeys.lastUsedAt,
      userDeletedAt: users.deletedAt,
      workspaceId: apiKeys.workspaceId,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.publicId, publicId))
    .limit(1);
  return row;
}

export async function listApiKeysByUser(db: Executor, userId: string): Promise<ApiKeyRow[]> {
  return db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.userId, userId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

export async function findApiKeyForUser(
  db: Executor,
  input: { id: string; userId: string },
): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, input.id), eq(apiKeys.userId, input.userId)))
    .limit(1);
  return row;
}

export async function findApiKeyById(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  return row;
}

export async function findApiKeyByPublicId(
  db: Executor,
  publicId: string,
): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.publicId, publicId)).limit(1);
  return row;
}

/** Row-locks a key for a state change (revoke, roll) inside a transaction. */
export async function lockApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).for('update').limit(1);
  return row;
}

export async function markRevoked(
  db: Executor,
  input: { id: string; at: Date; reason: string | null },
): Promise<ApiKeyRow | undefined> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: input.at, revokeReason: input.reason })
    .where(and(eq(apiKeys.id, input.id), isNull(apiKeys.revokedAt)))
    .returning();
  return row;
}

/** Revokes every live key of a user; returns the keys it revoked. */
export async function revokeAllOfUser(
  db: Executor,
  input: { userId: string; at: Date; reason: string },
): Promise<ApiKeyRow[]> {
  return db
    .update(apiKeys)
    .set({ revokedAt: input.at, revokeReason: input.reason })
    .where(and(eq(apiKeys.userId, input.userId), isNull(apiKeys.revokedAt)))
    .returning();
}

/** Revokes the live keys bound to an organisation (of one user, or of everyone). */
export async function revokeBoundToOrganisation(
  db: Executor,
  input: { organisationId: string; userId?: string; at: Date; reason: string },
): Promise<ApiKeyRow[]> {
  return db
    .update(apiKeys)
    .set({ revokedAt: input.at, revokeReason: input.reason })
    .where(
      and(
        eq(apiKeys.workspaceId, input.organisationId),
        input.userId ? eq(apiKeys.userId, input.userId) : undefined,
        isNull(apiKeys.revokedAt),
      ),
    )
    .returning();
}

export async function markRolled(
  db: Executor,
  input: { id: string; expiresAt: Date; replacedById: string },
): Promise<void> {
  await db
    .update(apiKeys)
    .set({ expiresAt: input.expiresAt, replacedById: input.replacedById })
    .where(eq(apiKeys.id, input.id));
}

/**
 * One statement for a batch of last-used times. GREATEST keeps the newest time when several
 * instances (or an older batch) write the same key.
 */
export async function writeLastUsed(
  db: Executor,
  entries: ReadonlyArray<{ id: string; at: Date }>,
): Promise<void> {
  if (entries.length === 0) return;
  const values = sql.join(
    entries.map((e) => sql`(${e.id}::uuid, ${e.at.toISOString()}::timestamptz)`),
    sql`, `,
  );
  await db.execute(sql`
    update ${apiKeys} as k
       set last_used_at = greatest(coalesce(k.last_used_at, v.at), v.at)
      from (values ${values}) as v(id, at)
     where k.id = v.id`);
}

/** Finds a user by Clerk id, creating a bare row when there is none (CLI, tests, local use). */
export async function ensureUserByClerkId(
  db: Executor,
  clerkUserId: string,
): Promise<{ id: string; created: boolean; deleted: boolean }> {
  const inserted = await db
    .insert(users)
    .values({ clerkId: clerkUserId })
    .onConflictDoNothing({ target: users.clerkId })
    .returning({ id: users.id });
  const created = inserted[0];
  if (created) return { id: created.id, created: true, deleted: false };
  const [existing] = await db
    .select({ id: users.id, deletedAt: users.deletedAt })
    .from(users)
    .where(eq(users.clerkId, clerkUserId))
    .limit(1);
  if (!existing) throw new Error('user row vanished between insert and select');
  return { id: existing.id, created: false, deleted: existing.deletedAt !== null };
}

const userByIdQuery = (db: Executor) =>
  db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder('userId')))
    .limit(1);
// `GET /api/v1/me` reads it on every call: built and planned once.
const preparedUserById = preparedFor((db) => userByIdQuery(db).prepare('api_me_user_by_id'));

export async function findUserById(db: Executor, userId: string) {
  const prepared = preparedUserById(db);
  const [row] = prepared
    ? await prepared.execute({ userId })
    : await userByIdQuery(db).execute({ userId });
  return row;
}

export async function findUserByClerkId(db: Executor, clerkUserId: string) {
  const [row] = await db.select().from(users).where(eq(users.clerkId, clerkUserId)).limit(1);
  return row;
}

export async function listOrganisationsByIds(db: Executor, ids: readonly string[]) {
  if (ids.length === 0) return [];
  return db
    .select({ id: organisations.id, clerkId: organisations.clerkId, name: organisations.name })
    .from(organisations)
    .where(inArray(organisations.id, [...ids]));
}

export interface KeyForLeakCheck {
  id: string;
  publicId: string;
  userId: string;
  secretHash: string;
  workspaceId: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

/** The keys named by a batch of public ids (a leak report), in one query. */
export async function findKeysByPublicIds(
  db: Executor,
  publicIds: readonly string[],
): Promise<KeyForLeakCheck[]> {
  if (publicIds.length === 0) return [];
  return db
    .select({
      id: apiKeys.id,
      publicId: apiKeys.publicId,
      userId: apiKeys.userId,
      secretHash: apiKeys.secretHash,
      workspaceId: apiKeys.workspaceId,
      expiresAt: apiKeys.expiresAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(inArray(apiKeys.publicId, [...publicIds]));
}

/**
 * Revokes a batch of keys, each with its own reason, in one statement; keys already revoked
 * keep their first time and reason. Returns the ids it revoked.
 */
export async function revokeMany(
  db: Executor,
  input: { at: Date; keys: ReadonlyArray<{ id: string; reason: string }> },
): Promise<string[]> {
  if (input.keys.length === 0) return [];
  const values = sql.join(
    input.keys.map((k) => sql`(${k.id}::uuid, ${k.reason}::text)`),
    sql`, `,
  );
  const result = (await db.execute(sql`
    update ${apiKeys} as k
       set revoked_at = ${input.at.toISOString()}::timestamptz, revoke_reason = v.reason
      from (values ${values}) as v(id, reason)
     where k.id = v.id and k.revoked_at is null
    returning k.id::text as id`)) as unknown as { rows: Array<{ id: string }> };
  return result.rows.map((r) => r.id);
}

export interface KeySighting {
  keyId: string;
  address: string;
  at: number;
  userAgent: string | null;
}

/**
 * Records key/address pairs; returns only those never seen before (by any process), with
 * what the security log needs about their key.
 */
export async function insertKeyAddresses(
  db: Executor,
  sightings: readonly KeySighting[],
): Promise<
  Array<{
    keyId: string;
    address: string;
    userId: string;
    workspaceId: string | null;
    name: string;
  }>
> {
  if (sightings.length === 0) return [];
  const values = sql.join(
    sightings.map(
      (s) =>
        sql`(${s.keyId}::uuid, ${s.address}::text, ${new Date(s.at).toISOString()}::timestamptz)`,
    ),
    sql`, `,
  );
  const result = (await db.execute(sql`
    with ins as (
      insert into ${apiKeyAddresses} (key_id, address, first_seen_at)
      select v.key_id, v.address, v.at from (values ${values}) as v(key_id, address, at)
      where exists (select 1 from ${apiKeys} k where k.id = v.key_id)
      on conflict do nothing
      returning key_id, address
    )
    select ins.key_id::text as "keyId", ins.address, k.user_id::text as "userId",
           k.workspace_id::text as "workspaceId", k.name
      from ins join ${apiKeys} k on k.id = ins.key_id`)) as unknown as {
    rows: Array<{
      keyId: string;
      address: string;
      userId: string;
      workspaceId: string | null;
      name: string;
    }>;
  };
  return result.rows;
}
