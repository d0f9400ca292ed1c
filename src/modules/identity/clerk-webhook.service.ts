import type { Db, Tx } from '../../db/database.ts';
import {
  endMembershipFromClerk,
  endMemberships,
  fillPlaceholderOrganisation,
  fillPlaceholderUser,
  pruneDeliveries,
  recordDelivery,
  tombstoneOrganisation,
  tombstoneUser,
  upsertMembershipFromClerk,
  upsertOrganisationFromClerk,
  upsertUserFromClerk,
} from './clerk-webhook.repository.ts';
import {
  type ClerkMembershipData,
  clerkDeletedDataSchema,
  clerkMembershipDataSchema,
  clerkOrganisationDataSchema,
  clerkUserDataSchema,
} from './clerk-webhook.schemas.ts';
import type { IdentityHooks } from './identity.hooks.ts';
import { ensureOrganisation, ensureUser } from './identity.repository.ts';

export interface ClerkEvent {
  svixId: string;
  type: string;
  data: Record<string, unknown>;
  /** Event time, epoch ms; orders events about the same object. */
  eventAt: number;
}

export type ClerkEventOutcome = 'applied' | 'ignored' | 'duplicate';

/** Thrown for a verified event whose data lacks what its type requires. */
export class ClerkEventDataError extends Error {
  constructor(readonly eventType: string) {
    super(`Clerk event ${eventType} has unexpected data`);
    this.name = 'ClerkEventDataError';
  }
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  event: ClerkEvent,
): T {
  const result = schema.safeParse(event.data);
  if (!result.success) throw new ClerkEventDataError(event.type);
  return result.data;
}

/**
 * Applies one verified Clerk event in one transaction together with its svix-id, so that it
 * is applied exactly once: a redelivery finds the id and changes nothing, and a failure
 * (including an extension hook throwing) keeps neither the effect nor the id, so Svix's
 * retry applies it again.
 */
export async function handleClerkEvent(
  db: Db,
  hooks: IdentityHooks,
  event: ClerkEvent,
): Promise<ClerkEventOutcome> {
  return db.transaction(async (tx) => {
    const fresh = await recordDelivery(tx, {
      svixId: event.svixId,
      eventType: event.type,
      eventAt: event.eventAt,
    });
    if (!fresh) return 'duplicate';
    const changed = await applyClerkEvent(tx, hooks, event);
    return changed ? 'applied' : 'ignored';
  });
}

/** Returns whether the event changed anything (false: unknown type, stale, or no-op). */
async function applyClerkEvent(tx: Tx, hooks: IdentityHooks, event: ClerkEvent): Promise<boolean> {
  const { eventAt } = event;
  switch (event.type) {
    case 'user.created':
    case 'user.updated': {
      const data = parse(clerkUserDataSchema, event);
      const primary =
        data.email_addresses?.find((e) => e.id === data.primary_email_address_id) ??
        data.email_addresses?.[0];
      return upsertUserFromClerk(tx, {
        clerkId: data.id,
        email: primary?.email_address ?? null,
        firstName: data.first_name ?? null,
        lastName: data.last_name ?? null,
        imageUrl: data.image_url ?? null,
        eventAt,
      });
    }
    case 'user.deleted': {
      const data = parse(clerkDeletedDataSchema, event);
      if (!data.id) return false;
      const userId = await tombstoneUser(tx, { clerkId: data.id, eventAt });
      if (!userId) return false;
      await endMemberships(tx, { userId }, eventAt);
      for (const hook of hooks.onUserDeleted) await hook(tx, userId);
      return true;
    }
    case 'organization.created':
    case 'organization.updated': {
      const data = parse(clerkOrganisationDataSchema, event);
      return upsertOrganisationFromClerk(tx, {
        clerkId: data.id,
        name: data.name,
        slug: data.slug ?? null,
        imageUrl: data.image_url ?? null,
        eventAt,
      });
    }
    case 'organization.deleted': {
      const data = parse(
        clerkDeletedDataSchema.extend({ slug: clerkOrganisationDataSchema.shape.slug }),
        event,
      );
      if (!data.id) return false;
      const organisationId = await tombstoneOrganisation(tx, {
        clerkId: data.id,
        slug: data.slug ?? null,
        eventAt,
      });
      if (!organisationId) return false;
      await endMemberships(tx, { organisationId }, eventAt);
      for (const hook of hooks.onOrganisationDeleted) await hook(tx, organisationId);
      return true;
    }
    case 'organizationMembership.created':
    case 'organizationMembership.updated':
    case 'organizationMembership.deleted': {
      const data = parse(clerkMembershipDataSchema, event);
      const ids = await membershipParties(tx, data);
      if (!ids) return false;
      const fields = {
        ...ids,
        clerkId: data.id ?? null,
        role: data.role ?? 'org:member',
        eventAt,
      };
      if (event.type !== 'organizationMembership.deleted') {
        return upsertMembershipFromClerk(tx, fields);
      }
      const ended = await endMembershipFromClerk(tx, fields);
      if (ended) for (const hook of hooks.onMembershipEnded) await hook(tx, ids);
      return ended;
    }
    default:
      return false;
  }
}

/**
 * The user and organisation of a membership event, created as placeholders (filled from the
 * event's snapshots) when their own events have not arrived yet. Undefined when either was
 * deleted: a membership of a deleted user or organisation is never recorded.
 */
async function membershipParties(
  tx: Tx,
  data: ClerkMembershipData,
): Promise<{ userId: string; organisationId: string } | undefined> {
  const person = data.public_user_data;
  const org = data.organization;
  const user = await ensureUser(tx, person.user_id);
  await fillPlaceholderUser(tx, {
    clerkId: person.user_id,
    email: person.identifier?.includes('@') ? person.identifier : null,
    firstName: person.first_name ?? null,
    lastName: person.last_name ?? null,
    imageUrl: person.image_url ?? null,
  });
  const organisation = await ensureOrganisation(tx, {
    clerkId: org.id,
    name: org.name ?? org.slug ?? org.id,
    slug: org.slug ?? null,
  });
  if (org.name) {
    await fillPlaceholderOrganisation(tx, {
      clerkId: org.id,
      name: org.name,
      slug: org.slug ?? null,
      imageUrl: org.image_url ?? null,
    });
  }
  if (user.deletedAt || organisation.deletedAt) return undefined;
  return { userId: user.id, organisationId: organisation.id };
}

/** Svix retries for about 28 hours; ids are kept a week so a redelivery is always known. */
export const deliveryRetentionMs = 7 * 24 * 60 * 60 * 1000;
const pruneEveryMs = 60 * 60 * 1000;
let lastPrunedAt = 0;

/** Deletes old delivery ids, at most once an hour per process. */
export async function pruneOldDeliveries(db: Db, now = Date.now()): Promise<void> {
  if (now - lastPrunedAt < pruneEveryMs) return;
  lastPrunedAt = now;
  await pruneDeliveries(db, new Date(now - deliveryRetentionMs));
}
