import type { Db } from '../../db/database.ts';
import type { SessionUser } from '../../http/auth-context.ts';
import { organisationAccessEnded, sessionUnauthorized } from './identity.errors.ts';
import {
  ensureOrganisation,
  ensureUser,
  findMembership,
  findUserById,
  listMembershipsWithOrganisations,
  observeMembership,
} from './identity.repository.ts';
import type { SettingsMe } from './identity.schemas.ts';
import type { OrganisationRow } from './identity.table.ts';

/** What a verified Clerk session token says, after the SDK parsed v1 or v2 org claims. */
export interface VerifiedSessionClaims {
  clerkUserId: string;
  sessionId: string | null;
  /** Token `iat`, seconds. */
  issuedAt: number | null;
  orgClerkId: string | null;
  /** Always prefixed, e.g. `org:admin` (the SDK maps v2's `rol: "admin"`). */
  orgRole: string | null;
  orgSlug: string | null;
}

/**
 * Turns verified claims into the request's SessionUser, checking the database on every
 * request so that a deleted user or an ended membership stops working at once, even while
 * the (up to 60 s) session token that still names the organisation is valid.
 *
 * Order-proofing: a user or organisation seen in a token before its webhook is created as a
 * placeholder row; a membership named by the token is recorded with the token's `iat` as its
 * event time, so a membership deletion newer than the token wins, and a token newer than the
 * deletion (the user was re-invited) restores it.
 */
export async function resolveSessionUser(
  db: Db,
  claims: VerifiedSessionClaims,
): Promise<SessionUser> {
  const user = await ensureUser(db, claims.clerkUserId);
  if (user.deletedAt) throw sessionUnauthorized('This user has been deleted.');
  const base = { userId: user.id, clerkUserId: user.clerkId, sessionId: claims.sessionId };
  // A token names an organisation together with a role; without both, the session is in
  // the personal workspace.
  if (!claims.orgClerkId || !claims.orgRole) {
    return { ...base, activeOrganisationId: null, activeOrgRole: null };
  }

  const organisation = await ensureOrganisation(db, {
    clerkId: claims.orgClerkId,
    name: claims.orgSlug ?? claims.orgClerkId,
    slug: claims.orgSlug,
  });
  if (organisation.deletedAt) throw organisationAccessEnded();

  const observedAt = (claims.issuedAt ?? 0) * 1000;
  let membership = await findMembership(db, user.id, organisation.id);
  const stale =
    !membership ||
    ((membership.deletedAt !== null || membership.role !== claims.orgRole) &&
      (membership.clerkEventAt ?? 0) < observedAt);
  if (stale) {
    membership = await observeMembership(db, {
      userId: user.id,
      organisationId: organisation.id,
      role: claims.orgRole,
      observedAt,
    });
  }
  if (!membership || membership.deletedAt) throw organisationAccessEnded();
  return { ...base, activeOrganisationId: organisation.id, activeOrgRole: membership.role };
}

/** `GET /api/settings/me`: the user, their live memberships and the active workspace. */
export async function getSettingsMe(db: Db, session: SessionUser | null): Promise<SettingsMe> {
  if (!session) throw sessionUnauthorized();
  const user = await findUserById(db, session.userId);
  if (!user || user.deletedAt) throw sessionUnauthorized('This user has been deleted.');
  const memberships = await listMembershipsWithOrganisations(db, user.id);
  const active = memberships.find((m) => m.organisation.id === session.activeOrganisationId);
  return {
    user: {
      id: user.id,
      clerkId: user.clerkId,
      email: user.email,
      firstName: user.firstName,
      lastName: user.lastName,
      imageUrl: user.imageUrl,
      createdAt: user.createdAt.getTime(),
      updatedAt: user.updatedAt.getTime(),
    },
    memberships: memberships.map((m) => ({
      organisation: organisationView(m.organisation),
      role: m.role,
      joinedAt: m.joinedAt.getTime(),
    })),
    activeWorkspace: active
      ? {
          type: 'organisation',
          organisationId: active.organisation.id,
          organisationClerkId: active.organisation.clerkId,
          name: active.organisation.name,
          role: active.role,
        }
      : {
          type: 'personal',
          organisationId: null,
          organisationClerkId: null,
          name: null,
          role: null,
        },
  };
}

function organisationView(row: OrganisationRow): SettingsMe['memberships'][number]['organisation'] {
  return {
    id: row.id,
    clerkId: row.clerkId,
    name: row.name,
    slug: row.slug,
    imageUrl: row.imageUrl,
  };
}
