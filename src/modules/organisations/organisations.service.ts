import type { Executor } from '../../db/database.ts';
import { conflict, forbidden, notFound } from '../../http/errors.ts';
import type { OrganisationRow } from '../identity/identity.table.ts';
import {
  type Actor,
  ADMIN_ROLE,
  invalidReference,
  resolveVisibleOrganisation,
  workspaceRestricted,
} from '../workspaces/workspace.service.ts';
import {
  findOrganisationRow,
  insertApiOrganisation,
  listMemberRows,
  listOrganisationRows,
  renameOrganisation,
  softDeleteOrganisation,
} from './organisations.repository.ts';
import type {
  Organisation,
  OrganisationCreate,
  OrganisationGetQuery,
  OrganisationListQuery,
  OrganisationUpdate,
} from './organisations.schemas.ts';

/** Clerk's organisation ids (`org_…`); refused for organisations made through the API. */
const CLERK_ID_PATTERN = /^org_/i;

async function present(
  db: Executor,
  rows: OrganisationRow[],
  expand: OrganisationGetQuery,
): Promise<Organisation[]> {
  const members = expand.includeMembers
    ? await listMemberRows(
        db,
        rows.map((r) => r.id),
      )
    : [];
  return rows.map((r) => ({
    _id: r.id,
    id: r.clerkId,
    name: r.name,
    ...(expand.includeMembers
      ? {
          members: members
            .filter((m) => m.organisationId === r.id)
            .map((m) => ({
              userId: m.userId,
              role: m.role,
              email: m.email,
              name: [m.firstName, m.lastName].filter(Boolean).join(' ') || null,
              imageUrl: m.imageUrl,
            })),
        }
      : {}),
    // No billing data is kept by this server (decided): the plan is null.
    ...(expand.includePlan ? { plan: null } : {}),
  }));
}

export async function listOrganisations(
  db: Executor,
  actor: Actor,
  query: OrganisationListQuery,
): Promise<Organisation[]> {
  const rows = await listOrganisationRows(db, {
    ids: [...actor.organisations.keys()],
    limit: query.limit,
    offset: query.offset,
  });
  return present(db, rows, query);
}

/** `_id` or external `id` → the organisation's `_id`, if the actor is a member. */
async function visibleOrganisationId(db: Executor, actor: Actor, idOrExternalId: string) {
  const id = await resolveVisibleOrganisation(db, actor, idOrExternalId);
  if (!id) throw notFound('Organisation');
  return id;
}

export async function getOrganisation(
  db: Executor,
  actor: Actor,
  idOrClerkId: string,
  expand: OrganisationGetQuery = {},
): Promise<Organisation> {
  const id = await visibleOrganisationId(db, actor, idOrClerkId);
  const row = await findOrganisationRow(db, id);
  if (!row) throw notFound('Organisation');
  const [item] = await present(db, [row], expand);
  return item as Organisation;
}

/**
 * Creates an organisation in the API namespace (external id `id`, unique per creator) and
 * makes the caller its admin. Clerk's organisations come only from Clerk: an id in Clerk's
 * `org_` namespace is refused, and Clerk events and sessions never match an API row, so an
 * API organisation can neither take nor shadow a Clerk one. The 409 only concerns the
 * caller's own ids, so it reveals nothing about anybody else's.
 */
export async function createOrganisation(
  db: Executor,
  actor: Actor,
  input: OrganisationCreate,
): Promise<Organisation> {
  // A new organisation is another workspace: out of reach of a workspace-bound key.
  if (actor.boundTo) throw workspaceRestricted(actor);
  if (CLERK_ID_PATTERN.test(input.id)) {
    throw invalidReference(
      'id',
      'ids starting with "org_" are Clerk organisation ids; Clerk organisations come only from Clerk',
    );
  }
  return db.transaction(async (tx) => {
    const row = await insertApiOrganisation(tx, {
      externalId: input.id,
      name: input.name,
      userId: actor.userId,
      role: ADMIN_ROLE,
    });
    if (!row) throw conflict('You already created an organisation with this id.');
    const [item] = await present(tx, [row], {});
    return item as Organisation;
  });
}

function assertAdmin(actor: Actor, organisationId: string): void {
  if (actor.organisations.get(organisationId) !== ADMIN_ROLE) {
    throw forbidden('Only an admin of the organisation can change or delete it.');
  }
}

export async function updateOrganisation(
  db: Executor,
  actor: Actor,
  idOrClerkId: string,
  patch: OrganisationUpdate,
): Promise<Organisation> {
  const id = await visibleOrganisationId(db, actor, idOrClerkId);
  assertAdmin(actor, id);
  const row =
    patch.name !== undefined
      ? await renameOrganisation(db, { id, name: patch.name })
      : await findOrganisationRow(db, id);
  if (!row) throw notFound('Organisation');
  const [item] = await present(db, [row], {});
  return item as Organisation;
}

export async function deleteOrganisation(
  db: Executor,
  actor: Actor,
  idOrClerkId: string,
): Promise<string> {
  const id = await visibleOrganisationId(db, actor, idOrClerkId);
  assertAdmin(actor, id);
  await db.transaction((tx) => softDeleteOrganisation(tx, id));
  return id;
}
