import type { Database, Executor } from '../../db/database.ts';
import { scopes as allScopes, type Scope } from '../../http/auth-context.ts';
import { conflict, notFound, validationError } from '../../http/errors.ts';
import {
  record,
  recordMany,
  type SecurityAction,
  type SecurityCause,
  type SecurityContext,
  type SecurityEntry,
} from '../security-log/security-log.ts';
import { loadActor, resolveVisibleOrganisation } from '../workspaces/workspace.service.ts';
import { displayKey, generateApiKey } from './api-key.format.ts';
import type { ApiKeyHasher } from './api-key.hasher.ts';
import type { ApiKeyVerifier, Invalidation } from './api-key.verifier.ts';
import {
  ensureUserByClerkId,
  findApiKeyForUser,
  insertApiKey,
  listApiKeysByUser,
  lockApiKey,
  markRevoked,
  markRolled,
  revokeAllOfUser,
  revokeBoundToOrganisation,
} from './api-keys.repository.ts';
import type { ApiKeyRow } from './api-keys.table.ts';

export interface ApiKeyServiceDeps {
  database: Database;
  hasher: ApiKeyHasher;
  /** Called after a committed change that restricts a key (revoke, roll, user deletion). */
  invalidate: (target: Invalidation) => Promise<void>;
  now?: () => number;
}

export const NAME_MAX = 100;
/** The longest an old key may keep working after a roll (as Stripe's key rolling allows). */
export const ROLL_GRACE_MAX_MS = 7 * 24 * 60 * 60 * 1000;

export type ApiKeyStatus = 'active' | 'revoked' | 'expired';

export function apiKeyStatus(row: ApiKeyRow, now: number): ApiKeyStatus {
  if (row.revokedAt && row.revokedAt.getTime() <= now) return 'revoked';
  if (row.expiresAt && row.expiresAt.getTime() <= now) return 'expired';
  return 'active';
}

/** The API's view of a key: never the hash, never the key. Times are epoch ms. */
export function toApiKeyView(row: ApiKeyRow, now: number) {
  return {
    id: row.id,
    name: row.name,
    lastFour: row.lastFour,
    displayKey: displayKey(row.lastFour),
    scopes: normaliseScopes(row.scopes),
    status: apiKeyStatus(row, now),
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    createdAt: row.createdAt.getTime(),
    lastUsedAt: row.lastUsedAt ? row.lastUsedAt.getTime() : null,
    revokedAt: row.revokedAt ? row.revokedAt.getTime() : null,
    revokeReason: row.revokeReason,
    replacedById: row.replacedById,
    rolledFromId: row.rolledFromId,
    workspace: workspaceOfKey(row),
  };
}

/** `personal`, an organisation `_id`, or null (unbound). */
export function workspaceOfKey(row: { userId: string; workspaceId: string | null }) {
  if (row.workspaceId === null) return null;
  return row.workspaceId === row.userId ? 'personal' : row.workspaceId;
}

/** A security-log entry about a key: its owner's log, and its organisation's when bound to one. */
function keyEntry(
  row: ApiKeyRow,
  action: SecurityAction,
  context: SecurityContext,
  details: SecurityEntry['details'] = {},
): SecurityEntry {
  const workspace = workspaceOfKey(row);
  return {
    ...context,
    action,
    target: { type: 'api_key', id: row.id },
    userId: row.userId,
    organisationId: workspace === 'personal' ? null : workspace,
    details: { name: row.name, ...details },
  };
}

/**
 * The workspace a new key is bound to: `personal` (the user's id) or an organisation the
 * user is a live member of (any role: a binding only narrows what the user already reaches).
 */
async function resolveBinding(
  deps: ApiKeyServiceDeps,
  userId: string,
  workspace: string | null | undefined,
): Promise<string | null> {
  if (workspace === undefined || workspace === null) return null;
  if (workspace === 'personal') return userId;
  const db = deps.database.db;
  const id = await resolveVisibleOrganisation(db, await loadActor(db, userId), workspace);
  if (!id) {
    const message = 'must be "personal" or an organisation you are a member of';
    throw validationError(`Invalid request: body.workspace ${message}`, [
      { path: 'body.workspace', message },
    ]);
  }
  return id;
}
export type ApiKeyView = ReturnType<typeof toApiKeyView>;

/** Deduplicated, in the canonical order read, write, delete. */
export function normaliseScopes(input: readonly string[]): Scope[] {
  return allScopes.filter((s) => input.includes(s));
}

function checkInput(
  input: { name: string; scopes: readonly string[]; expiresAt?: Date | null },
  now: number,
) {
  const errors: Array<{ path: string; message: string }> = [];
  const name = input.name.trim();
  if (name.length < 1 || name.length > NAME_MAX) {
    errors.push({ path: 'body.name', message: `must be 1 to ${NAME_MAX} characters` });
  }
  const unknown = input.scopes.filter((s) => !(allScopes as readonly string[]).includes(s));
  const scopes = normaliseScopes(input.scopes);
  if (unknown.length > 0 || scopes.length === 0) {
    errors.push({ path: 'body.scopes', message: 'must be a non-empty set of read, write, delete' });
  }
  if (input.expiresAt && input.expiresAt.getTime() <= now) {
    errors.push({ path: 'body.expiresAt', message: 'must be in the future' });
  }
  if (input.expiresAt && Number.isNaN(input.expiresAt.getTime())) {
    errors.push({ path: 'body.expiresAt', message: 'must be a valid date' });
  }
  const first = errors[0];
  if (first) throw validationError(`Invalid request: ${first.path} ${first.message}`, errors);
  return { name, scopes };
}

export interface CreateApiKeyInput {
  userId: string;
  name: string;
  scopes: readonly string[];
  expiresAt?: Date | null;
  /** `personal` or an organisation (`_id` or external id) to bind the key to. */
  workspace?: string | null;
  /** Who asks, from where: recorded in the security log (in the same transaction). */
  audit?: SecurityContext;
}

export interface CreatedApiKey {
  apiKey: ApiKeyRow;
  /** The full key: return it to its owner once, never store or log it. */
  key: string;
}

interface PreparedKey {
  generated: ReturnType<typeof generateApiKey>;
  secretHash: string;
}

/** A fresh key and its argon2id hash: done before any transaction, never while holding locks. */
async function prepareKey(deps: ApiKeyServiceDeps): Promise<PreparedKey> {
  const generated = generateApiKey();
  return { generated, secretHash: await deps.hasher.hash(generated.secret) };
}

async function issue(
  deps: ApiKeyServiceDeps,
  values: Omit<Parameters<typeof insertApiKey>[1], 'publicId' | 'secretHash' | 'lastFour'>,
  db: Parameters<typeof insertApiKey>[0] = deps.database.db,
  prepared?: PreparedKey,
): Promise<CreatedApiKey> {
  // Two attempts: a public-id collision (71 random bits) is astronomically unlikely, but the
  // unique index would turn it into an error rather than a wrong lookup.
  for (let attempt = 0; ; attempt++) {
    const { generated, secretHash } = attempt === 0 && prepared ? prepared : await prepareKey(deps);
    try {
      const apiKey = await insertApiKey(db, {
        ...values,
        publicId: generated.publicId,
        secretHash,
        lastFour: generated.lastFour,
      });
      return { apiKey, key: generated.key };
    } catch (err) {
      const code =
        (err as { code?: unknown; cause?: { code?: unknown } }).code ??
        (err as { cause?: { code?: unknown } }).cause?.code;
      if (code !== '23505' || attempt > 0) throw err;
    }
  }
}

/** Creates a key for a user (settings UI, CLI, tests). */
export async function createApiKey(
  deps: ApiKeyServiceDeps,
  input: CreateApiKeyInput,
): Promise<CreatedApiKey> {
  const now = (deps.now ?? Date.now)();
  const { name, scopes } = checkInput(input, now);
  const values = {
    userId: input.userId,
    name,
    scopes,
    expiresAt: input.expiresAt ?? null,
    workspaceId: await resolveBinding(deps, input.userId, input.workspace),
  };
  const audit = input.audit;
  // The operator CLI passes no audit: it writes single statements (see docs/api-keys.md).
  if (!audit) return issue(deps, values);
  const prepared = await prepareKey(deps);
  return deps.database.db.transaction(async (tx) => {
    const created = await issue(deps, values, tx, prepared);
    await record(tx, keyEntry(created.apiKey, 'api_key.created', audit));
    return created;
  });
}

/** Creates the user row when missing (CLI and tests, without Clerk), then a key. */
export async function createApiKeyForClerkUser(
  deps: ApiKeyServiceDeps,
  input: Omit<CreateApiKeyInput, 'userId'> & { clerkUserId: string },
): Promise<CreatedApiKey & { userId: string }> {
  // Validate first: bad input writes nothing, not even the user row.
  checkInput(input, (deps.now ?? Date.now)());
  const user = await ensureUserByClerkId(deps.database.db, input.clerkUserId);
  if (user.deleted) throw conflict('That user has been deleted.');
  const { clerkUserId: _ignored, ...rest } = input;
  const created = await createApiKey(deps, { ...rest, userId: user.id });
  return { ...created, userId: user.id };
}

export async function listApiKeys(deps: ApiKeyServiceDeps, userId: string): Promise<ApiKeyRow[]> {
  return listApiKeysByUser(deps.database.db, userId);
}

export async function getApiKey(
  deps: ApiKeyServiceDeps,
  input: { userId: string; id: string },
): Promise<ApiKeyRow> {
  const row = await findApiKeyForUser(deps.database.db, input);
  if (!row) throw notFound('API key');
  return row;
}

/** Revokes a key; idempotent (revoking a revoked key changes nothing). */
export async function revokeApiKey(
  deps: ApiKeyServiceDeps,
  input: { userId?: string; id: string; reason?: string | null; audit?: SecurityContext },
): Promise<ApiKeyRow> {
  const now = (deps.now ?? Date.now)();
  const row = await deps.database.db.transaction(async (tx) => {
    const current = await lockApiKey(tx, input.id);
    if (!current || (input.userId !== undefined && current.userId !== input.userId)) {
      throw notFound('API key');
    }
    if (current.revokedAt) return current;
    const updated = await markRevoked(tx, {
      id: input.id,
      at: new Date(now),
      reason: input.reason?.trim() || null,
    });
    if (updated && input.audit) {
      await record(
        tx,
        keyEntry(updated, 'api_key.revoked', input.audit, { reason: updated.revokeReason }),
      );
    }
    return updated ?? current;
  });
  await deps.invalidate({ keyId: row.id });
  return row;
}

/**
 * Rolls a key: a new key with the same name, scopes and expiry (never a longer life), and
 * the old key keeps working until `oldKeyExpiresAt` (default: now), capped by its own expiry
 * and by ROLL_GRACE_MAX_MS. A revoked, expired or already rolled key cannot be rolled (409).
 */
export async function rollApiKey(
  deps: ApiKeyServiceDeps,
  input: { userId: string; id: string; oldKeyExpiresAt?: Date | null; audit?: SecurityContext },
): Promise<CreatedApiKey & { previous: ApiKeyRow }> {
  const now = (deps.now ?? Date.now)();
  const requested = input.oldKeyExpiresAt ?? null;
  if (requested) {
    if (Number.isNaN(requested.getTime()) || requested.getTime() < now) {
      throw validationError('Invalid request: body.oldKeyExpiresAt must not be in the past', [
        { path: 'body.oldKeyExpiresAt', message: 'must not be in the past' },
      ]);
    }
    if (requested.getTime() > now + ROLL_GRACE_MAX_MS) {
      throw validationError('Invalid request: body.oldKeyExpiresAt must be within 7 days', [
        { path: 'body.oldKeyExpiresAt', message: 'must be within 7 days' },
      ]);
    }
  }
  // Hash first: argon2 (19 MiB, tens of ms, possibly queued) must not run while the old key's
  // row is locked and a pooled connection (the only one, on the embedded database) is held.
  const prepared = await prepareKey(deps);
  const result = await deps.database.db.transaction(async (tx) => {
    const old = await lockApiKey(tx, input.id);
    if (!old || old.userId !== input.userId) throw notFound('API key');
    const status = apiKeyStatus(old, now);
    if (status !== 'active') throw conflict(`The API key is ${status} and cannot be rolled.`);
    if (old.replacedById) throw conflict('The API key has already been rolled.');
    const created = await issue(
      deps,
      {
        userId: old.userId,
        name: old.name,
        scopes: normaliseScopes(old.scopes),
        expiresAt: old.expiresAt,
        rolledFromId: old.id,
        workspaceId: old.workspaceId,
      },
      tx,
      prepared,
    );
    let oldExpiry = requested ? requested.getTime() : now;
    if (old.expiresAt) oldExpiry = Math.min(oldExpiry, old.expiresAt.getTime());
    await markRolled(tx, {
      id: old.id,
      expiresAt: new Date(oldExpiry),
      replacedById: created.apiKey.id,
    });
    const previous: ApiKeyRow = {
      ...old,
      expiresAt: new Date(oldExpiry),
      replacedById: created.apiKey.id,
    };
    if (input.audit) {
      await record(
        tx,
        keyEntry(previous, 'api_key.rolled', input.audit, {
          replacedById: created.apiKey.id,
          oldKeyExpiresAt: oldExpiry,
        }),
      );
    }
    return { ...created, previous };
  });
  await deps.invalidate({ keyId: input.id });
  return result;
}

/** Revokes every key of a user (Clerk user deletion). Returns how many it revoked. */
export async function revokeUserApiKeys(
  deps: ApiKeyServiceDeps,
  input: { userId: string; reason?: string },
): Promise<number> {
  const now = (deps.now ?? Date.now)();
  const rows = await revokeAllOfUser(deps.database.db, {
    userId: input.userId,
    at: new Date(now),
    reason: input.reason ?? 'user deleted',
  });
  await deps.invalidate({ userId: input.userId });
  return rows.length;
}

/** Security-log entries for keys the system revoked, all at once. */
function systemRevocations(rows: readonly ApiKeyRow[], cause: SecurityCause): SecurityEntry[] {
  return rows.map((row) =>
    keyEntry(row, 'api_key.revoked', { actor: { system: cause } }, { reason: row.revokeReason }),
  );
}

/**
 * The onUserDeleted hook: revokes every key of the user inside the caller's transaction and
 * invalidates caches when (and only if) it commits.
 */
export async function revokeUserApiKeysInTransaction(
  tx: Executor,
  input: { verifier: ApiKeyVerifier; userId: string; reason?: string },
): Promise<number> {
  const rows = await revokeAllOfUser(tx, {
    userId: input.userId,
    at: new Date(input.verifier.now()),
    reason: input.reason ?? 'user deleted',
  });
  await recordMany(tx, systemRevocations(rows, 'user_deletion'));
  await input.verifier.invalidateOnCommit(tx, { userId: input.userId });
  return rows.length;
}

/**
 * Membership end (one user) or organisation deletion (everyone): the keys bound to that
 * organisation are revoked in the caller's transaction, so they are listed as revoked with
 * the reason; caches drop them when it commits.
 */
export async function revokeOrganisationBoundKeysInTransaction(
  tx: Executor,
  input: { verifier: ApiKeyVerifier; organisationId: string; userId?: string },
): Promise<number> {
  const cause: SecurityCause = input.userId ? 'membership_end' : 'organisation_deletion';
  const rows = await revokeBoundToOrganisation(tx, {
    organisationId: input.organisationId,
    ...(input.userId ? { userId: input.userId } : {}),
    at: new Date(input.verifier.now()),
    reason: input.userId ? 'organisation membership ended' : 'organisation deleted',
  });
  await recordMany(tx, systemRevocations(rows, cause));
  await input.verifier.invalidateOnCommit(
    tx,
    rows.map((row) => ({ keyId: row.id })),
  );
  return rows.length;
}
