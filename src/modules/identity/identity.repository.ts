import { and, asc, eq, inArray, isNull, lt, or, type SQLWrapper, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { preparedFor } from '../../db/prepared.ts';
import {
  type MembershipRow,
  memberships,
  type OrganisationRow,
  organisations,
  type UserRow,
  users,
} from './identity.table.ts';

export interface OrganisationAccess {
  organisationId: string;
  role: string;
}

/**
 * The organisations a user can currently see: live memberships of live organisations.
 * Called per request by both auth layers so that an ended membership takes effect at once.
 */
export async function listOrganisationAccess(
  db: Executor,
  userId: string,
): Promise<OrganisationAccess[]> {
  const prepared = preparedAccess(db);
  return prepared ? prepared.execute({ userId }) : organisationAccessQuery(db).execute({ userId });
}

function organisationAccessQuery(db: Executor) {
  return db
    .select({ organisationId: memberships.organisationId, role: memberships.role })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.organisationId))
    .where(liveMembershipOf(sql.placeholder('userId')));
}

/**
 * The ids of the organisations `listOrganisationAccess` gives a user, as a subquery: to check
 * a user's reach in the statement that reads the rows (one round trip less).
 */
export function liveOrganisationIdsOf(db: Executor, userId: string) {
  return db
    .select({ id: memberships.organisationId })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.organisationId))
    .where(liveMembershipOf(userId));
}

/** A live membership (of a live organisation) of the user; memberships joined to organisations. */
function liveMembershipOf(userId: SQLWrapper | string) {
  return and(
    eq(memberships.userId, userId),
    isNull(memberships.deletedAt),
    isNull(organisations.deletedAt),
  );
}

// Run on every authenticated request: built and planned once.
const preparedAccess = preparedFor((db) =>
  organisationAccessQuery(db).prepare('organisation_access_of_user'),
);

export async function findUserByClerkId(
  db: Executor,
  clerkId: string,
): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.clerkId, clerkId)).limit(1);
  return row;
}

export async function findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/**
 * Returns the user with this Clerk id, creating an empty row first when there is none (a
 * signed-in user whose `user.created` webhook has not arrived yet). Concurrent first requests
 * are safe: the insert does nothing on conflict and the row is read back.
 */
export async function ensureUser(db: Executor, clerkId: string): Promise<UserRow> {
  const found = await findUserByClerkId(db, clerkId);
  if (found) return found;
  await db.insert(users).values({ clerkId }).onConflictDoNothing({ target: users.clerkId });
  const row = await findUserByClerkId(db, clerkId);
  if (!row) throw new Error('user row vanished after insert');
  return row;
}

/**
 * Clerk's organisations only: rows made through the public API live in their own namespace
 * and are never matched, merged or taken over by a Clerk event or session (security finding 1).
 */
export const fromClerk = sql`${organisations.source} = 'clerk'`;

/** A Clerk organisation (never one created through the public API) by its Clerk id. */
export async function findOrganisationByClerkId(
  db: Executor,
  clerkId: string,
): Promise<OrganisationRow | undefined> {
  const [row] = await db
    .select()
    .from(organisations)
    .where(and(eq(organisations.clerkId, clerkId), fromClerk))
    .limit(1);
  return row;
}

/** Like ensureUser, for organisations; the placeholder's name is the best hint available. */
export async function ensureOrganisation(
  db: Executor,
  input: { clerkId: string; name: string; slug: string | null },
): Promise<OrganisationRow> {
  const found = await findOrganisationByClerkId(db, input.clerkId);
  if (found) return found;
  await db
    .insert(organisations)
    .values({ clerkId: input.clerkId, name: input.name, slug: input.slug })
    .onConflictDoNothing({ target: organisations.clerkId, where: fromClerk });
  const row = await findOrganisationByClerkId(db, input.clerkId);
  if (!row) throw new Error('organisation row vanished after insert');
  return row;
}

/** The membership row of a user in an organisation, live or ended. */
export async function findMembership(
  db: Executor,
  userId: string,
  organisationId: string,
): Promise<MembershipRow | undefined> {
  const [row] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.organisationId, organisationId)))
    .limit(1);
  return row;
}

/**
 * Records what a verified session token says about a membership (observed at the token's
 * `iat`), unless a newer Clerk event is already stored. Returns the row as it now stands.
 */
export async function observeMembership(
  db: Executor,
  input: { userId: string; organisationId: string; role: string; observedAt: number },
): Promise<MembershipRow | undefined> {
  await db
    .insert(memberships)
    .values({
      userId: input.userId,
      organisationId: input.organisationId,
      role: input.role,
      clerkEventAt: input.observedAt,
    })
    .onConflictDoUpdate({
      target: [memberships.userId, memberships.organisationId],
      set: {
        role: input.role,
        deletedAt: null,
        clerkEventAt: input.observedAt,
        updatedAt: sql`now()`,
      },
      setWhere: or(
        isNull(memberships.clerkEventAt),
        lt(memberships.clerkEventAt, input.observedAt),
      ),
    });
  return findMembership(db, input.userId, input.organisationId);
}

export interface MembershipView {
  role: string;
  joinedAt: Date;
  organisation: OrganisationRow;
}

/** Live memberships of live organisations, with the organisation, oldest first. */
export async function listMembershipsWithOrganisations(
  db: Executor,
  userId: string,
): Promise<MembershipView[]> {
  return db
    .select({
      role: memberships.role,
      joinedAt: memberships.createdAt,
      organisation: organisations,
    })
    .from(memberships)
    .innerJoin(organisations, eq(organisations.id, memberships.organisationId))
    .where(
      and(
        eq(memberships.userId, userId),
        isNull(memberships.deletedAt),
        isNull(organisations.deletedAt),
      ),
    )
    .orderBy(asc(memberships.createdAt), asc(organisations.id));
}

/** A live member of the organisation with this email (case-insensitive). */
export async function findMemberIdByEmail(
  db: Executor,
  input: { organisationId: string; email: string },
): Promise<string | null> {
  const found = await findMemberIdsByEmails(db, {
    organisationId: input.organisationId,
    emails: [input.email],
  });
  return found.get(input.email.toLowerCase()) ?? null;
}

/** `findMemberIdByEmail` for several emails at once: lower-cased email → member id. */
export async function findMemberIdsByEmails(
  db: Executor,
  input: { organisationId: string; emails: readonly string[] },
): Promise<Map<string, string>> {
  if (input.emails.length === 0) return new Map();
  const rows = await db
    .select({ id: users.id, email: sql<string>`lower(${users.email})` })
    .from(users)
    .innerJoin(memberships, eq(memberships.userId, users.id))
    .where(
      and(
        eq(memberships.organisationId, input.organisationId),
        isNull(memberships.deletedAt),
        isNull(users.deletedAt),
        inArray(
          sql`lower(${users.email})`,
          input.emails.map((e) => e.toLowerCase()),
        ),
      ),
    );
  const found = new Map<string, string>();
  for (const row of rows) if (!found.has(row.email)) found.set(row.email, row.id);
  return found;
}
