import { and, eq, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Executor } from '../../db/database.ts';
import { fromClerk } from './identity.repository.ts';
import { clerkWebhookDeliveries, memberships, organisations, users } from './identity.table.ts';

/** Records a delivery; false when this svix-id was already recorded (a redelivery). */
export async function recordDelivery(
  db: Executor,
  input: { svixId: string; eventType: string; eventAt: number },
): Promise<boolean> {
  const rows = await db
    .insert(clerkWebhookDeliveries)
    .values(input)
    .onConflictDoNothing({ target: clerkWebhookDeliveries.svixId })
    .returning({ svixId: clerkWebhookDeliveries.svixId });
  return rows.length > 0;
}

export async function pruneDeliveries(db: Executor, receivedBefore: Date): Promise<void> {
  await db
    .delete(clerkWebhookDeliveries)
    .where(lt(clerkWebhookDeliveries.receivedAt, receivedBefore));
}

/** An event at `eventAt` may overwrite a row whose last event is not newer. */
const notNewerThan = (column: AnyPgColumn, eventAt: number) =>
  or(isNull(column), lte(column, eventAt));

export interface ClerkUserFields {
  clerkId: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  imageUrl: string | null;
}

/**
 * `user.created` / `user.updated`: creates or overwrites the user unless a newer event was
 * applied, and never touches a deleted user (Clerk cannot undelete; a late update must not
 * resurrect). Returns whether the row changed.
 */
export async function upsertUserFromClerk(
  db: Executor,
  input: ClerkUserFields & { eventAt: number },
): Promise<boolean> {
  const { eventAt, ...fields } = input;
  const rows = await db
    .insert(users)
    .values({ ...fields, clerkEventAt: eventAt })
    .onConflictDoUpdate({
      target: users.clerkId,
      set: {
        email: fields.email,
        firstName: fields.firstName,
        lastName: fields.lastName,
        imageUrl: fields.imageUrl,
        clerkEventAt: eventAt,
        updatedAt: sql`now()`,
      },
      setWhere: and(isNull(users.deletedAt), notNewerThan(users.clerkEventAt, eventAt)),
    })
    .returning({ id: users.id });
  return rows.length > 0;
}

/** Fills a placeholder user (created from a token or a membership, never from a user event). */
export async function fillPlaceholderUser(
  db: Executor,
  input: Omit<ClerkUserFields, 'email'> & { email: string | null },
): Promise<void> {
  await db
    .update(users)
    .set({
      email: sql`coalesce(${users.email}, ${input.email})`,
      firstName: sql`coalesce(${users.firstName}, ${input.firstName})`,
      lastName: sql`coalesce(${users.lastName}, ${input.lastName})`,
      imageUrl: sql`coalesce(${users.imageUrl}, ${input.imageUrl})`,
      updatedAt: sql`now()`,
    })
    .where(
      and(eq(users.clerkId, input.clerkId), isNull(users.clerkEventAt), isNull(users.deletedAt)),
    );
}

/**
 * `user.deleted`: marks the user deleted (creating a tombstone when the user was never seen,
 * so a late `user.created` cannot create it) and erases the personal data Clerk sent.
 * Returns the user's id when this call deleted it, undefined when it was already deleted.
 */
export async function tombstoneUser(
  db: Executor,
  input: { clerkId: string; eventAt: number },
): Promise<string | undefined> {
  const [row] = await db
    .insert(users)
    .values({ clerkId: input.clerkId, clerkEventAt: input.eventAt, deletedAt: sql`now()` })
    .onConflictDoUpdate({
      target: users.clerkId,
      set: {
        deletedAt: sql`now()`,
        email: null,
        firstName: null,
        lastName: null,
        imageUrl: null,
        clerkEventAt: sql`greatest(coalesce(${users.clerkEventAt}, 0), ${input.eventAt})`,
        updatedAt: sql`now()`,
      },
      setWhere: isNull(users.deletedAt),
    })
    .returning({ id: users.id });
  return row?.id;
}

export interface ClerkOrganisationFields {
  clerkId: string;
  name: string;
  slug: string | null;
  imageUrl: string | null;
}

/** `organization.created` / `organization.updated`; same rules as upsertUserFromClerk. */
export async function upsertOrganisationFromClerk(
  db: Executor,
  input: ClerkOrganisationFields & { eventAt: number },
): Promise<boolean> {
  const { eventAt, ...fields } = input;
  const rows = await db
    .insert(organisations)
    .values({ ...fields, clerkEventAt: eventAt })
    .onConflictDoUpdate({
      target: organisations.clerkId,
      targetWhere: fromClerk,
      set: {
        name: fields.name,
        slug: fields.slug,
        imageUrl: fields.imageUrl,
        clerkEventAt: eventAt,
        updatedAt: sql`now()`,
      },
      setWhere: and(
        isNull(organisations.deletedAt),
        notNewerThan(organisations.clerkEventAt, eventAt),
      ),
    })
    .returning({ id: organisations.id });
  return rows.length > 0;
}

/** Fills a placeholder organisation from the snapshot nested in a membership event. */
export async function fillPlaceholderOrganisation(
  db: Executor,
  input: ClerkOrganisationFields,
): Promise<void> {
  await db
    .update(organisations)
    .set({
      name: input.name,
      slug: sql`coalesce(${input.slug}, ${organisations.slug})`,
      imageUrl: sql`coalesce(${input.imageUrl}, ${organisations.imageUrl})`,
      updatedAt: sql`now()`,
    })
    .where(
      and(
        eq(organisations.clerkId, input.clerkId),
        fromClerk,
        isNull(organisations.clerkEventAt),
        isNull(organisations.deletedAt),
      ),
    );
}

/** `organization.deleted`: like tombstoneUser. */
export async function tombstoneOrganisation(
  db: Executor,
  input: { clerkId: string; slug: string | null; eventAt: number },
): Promise<string | undefined> {
  const [row] = await db
    .insert(organisations)
    .values({
      clerkId: input.clerkId,
      name: input.slug ?? input.clerkId,
      slug: input.slug,
      clerkEventAt: input.eventAt,
      deletedAt: sql`now()`,
    })
    .onConflictDoUpdate({
      target: organisations.clerkId,
      targetWhere: fromClerk,
      set: {
        deletedAt: sql`now()`,
        clerkEventAt: sql`greatest(coalesce(${organisations.clerkEventAt}, 0), ${input.eventAt})`,
        updatedAt: sql`now()`,
      },
      setWhere: isNull(organisations.deletedAt),
    })
    .returning({ id: organisations.id });
  return row?.id;
}

/** Ends every live membership of a user or of an organisation. */
export async function endMemberships(
  db: Executor,
  input: { userId: string } | { organisationId: string },
  eventAt: number,
): Promise<void> {
  const owner =
    'userId' in input
      ? eq(memberships.userId, input.userId)
      : eq(memberships.organisationId, input.organisationId);
  await db
    .update(memberships)
    .set({
      deletedAt: sql`now()`,
      clerkEventAt: sql`greatest(coalesce(${memberships.clerkEventAt}, 0), ${eventAt})`,
      updatedAt: sql`now()`,
    })
    .where(and(owner, isNull(memberships.deletedAt)));
}

export interface ClerkMembershipFields {
  userId: string;
  organisationId: string;
  clerkId: string | null;
  role: string;
  eventAt: number;
}

/**
 * `organizationMembership.created` / `.updated`. A live row takes any event that is not
 * older; an ended row is restored only by a strictly newer event (a re-invitation), so a
 * late `created` never undoes a `deleted`. Returns whether the row changed.
 */
export async function upsertMembershipFromClerk(
  db: Executor,
  input: ClerkMembershipFields,
): Promise<boolean> {
  const rows = await db
    .insert(memberships)
    .values({
      userId: input.userId,
      organisationId: input.organisationId,
      clerkId: input.clerkId,
      role: input.role,
      clerkEventAt: input.eventAt,
    })
    .onConflictDoUpdate({
      target: [memberships.userId, memberships.organisationId],
      set: {
        role: input.role,
        clerkId: sql`coalesce(${input.clerkId}, ${memberships.clerkId})`,
        deletedAt: null,
        clerkEventAt: input.eventAt,
        updatedAt: sql`now()`,
      },
      setWhere: or(
        and(isNull(memberships.deletedAt), notNewerThan(memberships.clerkEventAt, input.eventAt)),
        and(
          isNotNull(memberships.deletedAt),
          or(isNull(memberships.clerkEventAt), lt(memberships.clerkEventAt, input.eventAt)),
        ),
      ),
    })
    .returning({ id: memberships.id });
  await fillMembershipClerkId(db, input);
  return rows.length > 0;
}

/**
 * `organizationMembership.deleted`: ends the membership unless a newer event restored it; when
 * the membership was never seen, leaves an ended row so that a late `created` cannot add it.
 */
export async function endMembershipFromClerk(
  db: Executor,
  input: ClerkMembershipFields,
): Promise<boolean> {
  const rows = await db
    .insert(memberships)
    .values({
      userId: input.userId,
      organisationId: input.organisationId,
      clerkId: input.clerkId,
      role: input.role,
      clerkEventAt: input.eventAt,
      deletedAt: sql`now()`,
    })
    .onConflictDoUpdate({
      target: [memberships.userId, memberships.organisationId],
      set: {
        deletedAt: sql`coalesce(${memberships.deletedAt}, now())`,
        clerkEventAt: input.eventAt,
        updatedAt: sql`now()`,
      },
      setWhere: notNewerThan(memberships.clerkEventAt, input.eventAt),
    })
    .returning({ id: memberships.id });
  await fillMembershipClerkId(db, input);
  return rows.length > 0;
}

async function fillMembershipClerkId(db: Executor, input: ClerkMembershipFields): Promise<void> {
  if (!input.clerkId) return;
  await db
    .update(memberships)
    .set({ clerkId: input.clerkId })
    .where(
      and(
        eq(memberships.userId, input.userId),
        eq(memberships.organisationId, input.organisationId),
        isNull(memberships.clerkId),
      ),
    );
}
