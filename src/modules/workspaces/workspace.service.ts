import type { FastifyRequest } from 'fastify';
import type { Executor } from '../../db/database.ts';
import { insufficientScope, type Scope } from '../../http/auth-context.ts';
import {
  AppError,
  type FieldError,
  forbidden,
  notFound,
  validationError,
} from '../../http/errors.ts';
import { listOrganisationAccess } from '../identity/identity.repository.ts';
import { findOrganisationIdByExternalId } from './workspace.repository.ts';

/**
 * Who acts, and which workspaces they reach: their personal workspace (keyed by their user id)
 * and the organisations they are a live member of, with their role there. Loaded per request
 * (never cached) so that an ended membership takes effect on the very next request.
 */
export interface Actor {
  userId: string;
  /** organisations.id → Clerk role (`org:admin`, `org:member`). */
  organisations: ReadonlyMap<string, string>;
  /** The API key's scopes; absent when no key is involved (the automation engine). */
  scopes?: readonly Scope[];
  /**
   * A workspace-bound API key's workspace: the user's id (personal) or an organisation id.
   * Absent or null: every workspace the user reaches.
   */
  boundTo?: string | null;
}

export const ADMIN_ROLE = 'org:admin';

/**
 * The one place where the workspaces an actor reaches are computed. A workspace-bound key
 * reaches only its workspace: the other organisations are dropped here, and the personal
 * workspace is hidden when the key is bound to an organisation (see `personalVisible`).
 * A key bound to an organisation the user has left stops working (401 API_KEY_REVOKED; the
 * membership-end hook also revokes it, this covers a missed hook).
 */
export async function loadActor(
  db: Executor,
  userId: string,
  boundTo: string | null = null,
): Promise<Actor> {
  const access = await listOrganisationAccess(db, userId);
  const reachable = boundTo ? access.filter((a) => a.organisationId === boundTo) : access;
  if (boundTo && boundTo !== userId && reachable.length === 0) throw bindingEnded();
  return {
    userId,
    organisations: new Map(reachable.map((a) => [a.organisationId, a.role])),
    boundTo,
  };
}

const bindingEnded = () =>
  new AppError({
    code: 'API_KEY_REVOKED',
    status: 401,
    message: "The API key's organisation membership has ended.",
    headers: {
      'www-authenticate':
        'Bearer realm="MONOid", error="invalid_token", error_description="The API key has been revoked."',
    },
  });

/** 403 for a workspace-bound key asked to reach another workspace; names the binding only. */
export function workspaceRestricted(actor: Actor): AppError {
  const where =
    actor.boundTo === actor.userId
      ? 'your personal workspace'
      : `organisation ${actor.boundTo ?? ''}`;
  return new AppError({
    code: 'KEY_WORKSPACE_RESTRICTED',
    status: 403,
    message: `This API key is restricted to ${where}; it cannot reach another workspace.`,
  });
}

/** Whether the actor reaches their personal workspace (not with an organisation-bound key). */
export function personalVisible(actor: Actor): boolean {
  return !actor.boundTo || actor.boundTo === actor.userId;
}

/** Refuses (403) a write into a workspace outside the key's binding. */
export function assertInBinding(actor: Actor, workspaceId: string): void {
  if (actor.boundTo && actor.boundTo !== workspaceId) throw workspaceRestricted(actor);
}

/**
 * The owner key of personal-only resources (reviews, daily notes): reads by an
 * organisation-bound key match nothing (empty lists, 404), writes are refused (403).
 */
export function personalOwner(actor: Actor, access: 'read' | 'write'): string {
  if (personalVisible(actor)) return actor.userId;
  if (access === 'write') throw workspaceRestricted(actor);
  return NO_MATCH_ID;
}

/** The actor of an /api/v1 request (set by the API-key auth hook). */
export async function requestActor(request: FastifyRequest, db: Executor): Promise<Actor> {
  const principal = request.principal;
  if (!principal) {
    throw new AppError({
      code: 'UNAUTHORIZED',
      status: 401,
      message: 'An API key is required.',
      headers: { 'www-authenticate': 'Bearer realm="MONOid"' },
    });
  }
  return {
    ...(await loadActor(db, principal.userId, principal.workspaceId)),
    scopes: principal.scopes,
  };
}

export function visibleWorkspaceIds(actor: Actor): string[] {
  const organisations = [...actor.organisations.keys()];
  return personalVisible(actor) ? [actor.userId, ...organisations] : organisations;
}

/**
 * The workspace key of an item being written: its organisation, or its owner's personal
 * workspace. Refused (403) outside a bound key's workspace.
 */
export function workspaceKey(actor: Actor, organisationId: string | null): string {
  const key = organisationId ?? actor.userId;
  assertInBinding(actor, key);
  return key;
}

/** The organisation a workspace key names (null for the actor's personal workspace). */
export function organisationOfWorkspace(actor: Actor, workspaceId: string): string | null {
  return workspaceId === actor.userId ? null : workspaceId;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** A uuid that matches nothing: malformed ids in filters simply match no item. */
export const NO_MATCH_ID = '00000000-0000-0000-0000-000000000000';
export function idOrNoMatch(value: string): string {
  return isUuid(value) ? value.toLowerCase() : NO_MATCH_ID;
}

/** A path id: malformed ids answer 404 like unknown ones (never a 500). */
export function pathId(value: string, what: string): string {
  if (!isUuid(value)) throw notFound(what);
  return value.toLowerCase();
}

/**
 * Resolves an organisation reference (internal `_id` or external `id`, whatever its shape) to
 * one of the actor's organisations; undefined for anything else, existing or not.
 */
export async function resolveVisibleOrganisation(
  db: Executor,
  actor: Actor,
  value: string,
): Promise<string | undefined> {
  const asId = isUuid(value) ? value.toLowerCase() : undefined;
  if (asId && actor.organisations.has(asId)) return asId;
  return findOrganisationIdByExternalId(db, {
    externalId: value,
    organisationIds: [...actor.organisations.keys()],
  });
}

/**
 * The `organisationId` list filter → the workspaces to search. Omitted: all visible ones;
 * `personal`: the personal workspace; an organisation the caller cannot see: none (an empty
 * list, which reveals nothing about its existence).
 */
export async function workspacesForFilter(
  db: Executor,
  actor: Actor,
  organisationId: string | undefined,
): Promise<string[]> {
  if (organisationId === undefined) return visibleWorkspaceIds(actor);
  if (organisationId === 'personal') {
    assertInBinding(actor, actor.userId);
    return [actor.userId];
  }
  const id = await resolveVisibleOrganisation(db, actor, organisationId);
  if (!id && actor.boundTo) throw workspaceRestricted(actor);
  return id ? [id] : [];
}

/**
 * The `organisationId` of a create body → the organisation to write into (null = personal).
 * Writing into an organisation needs a live membership; any other value is a 400 that does not
 * say whether the organisation exists.
 */
export async function organisationForWrite(
  db: Executor,
  actor: Actor,
  organisationId: string | null | undefined,
): Promise<string | null | undefined> {
  if (organisationId === undefined) return undefined;
  if (organisationId === null || organisationId === 'personal') {
    assertInBinding(actor, actor.userId);
    return null;
  }
  const id = await resolveVisibleOrganisation(db, actor, organisationId);
  if (!id && actor.boundTo) throw workspaceRestricted(actor);
  if (!id) throw invalidReference('organisationId', 'organisation not found');
  return id;
}

/**
 * Moving an item out of an organisation (to the personal workspace or another organisation)
 * takes it away from every other member, as a delete would: it needs the key's `delete` scope
 * and the organisation's admin role or being the item's creator (security finding 4). Moving
 * into an organisation needs membership, which resolving the target already requires.
 */
export function assertMayMoveOut(
  actor: Actor,
  item: { organisationId: string | null; creatorId: string },
): void {
  if (item.organisationId === null) return;
  if (actor.scopes && !actor.scopes.includes('delete')) throw insufficientScope('delete');
  const isAdmin = actor.organisations.get(item.organisationId) === ADMIN_ROLE;
  if (!isAdmin && item.creatorId !== actor.userId) {
    throw forbidden(
      'Only an admin of the organisation or the item’s creator can move it out of the organisation.',
    );
  }
}

/** A 400 naming a body field (paths are `body.<field>`, as for schema validation errors). */
export function invalidReference(field: string, message: string): AppError {
  return invalidFields([{ path: field, message }]);
}

export function invalidFields(errors: FieldError[]): AppError {
  const prefixed = errors.map((e) => ({ ...e, path: `body.${e.path}` }));
  const first = prefixed[0];
  return validationError(
    first ? `Invalid request: ${first.path} ${first.message}` : 'Invalid request',
    prefixed,
  );
}

/** Epoch ms for created_at / updated_at. */
export function nowMs(): number {
  return Date.now();
}

/** Whether a database error (or one it wraps) has this SQLSTATE. */
function hasSqlState(err: unknown, ...codes: string[]): boolean {
  let current: unknown = err;
  for (let i = 0; i < 5 && current; i++) {
    if (codes.includes((current as { code?: string }).code ?? '')) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** A unique-constraint violation. */
export const isUniqueViolation = (err: unknown): boolean => hasSqlState(err, '23505');

/**
 * A foreign key refused the write: a reference still points at the row (23503, or 23001 where
 * the key says `on delete restrict`).
 */
export const isForeignKeyViolation = (err: unknown): boolean => hasSqlState(err, '23503', '23001');
