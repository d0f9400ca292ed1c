import type { Tx } from '../../db/database.ts';

/**
 * Extension points other features hook into, called inside the transaction that applies the
 * Clerk event, so their effect commits (or rolls back) together with it. A hook that throws
 * fails the delivery (500): Svix retries it and nothing of it is kept.
 *
 *   app.identityHooks.onUserDeleted.push(async (tx, userId) => revokeAllKeysOfUser(tx, userId));
 *
 * `userId` / `organisationId` are internal ids (users.id / organisations.id).
 */
export interface IdentityHooks {
  onUserDeleted: Array<(tx: Tx, userId: string) => Promise<void>>;
  onOrganisationDeleted: Array<(tx: Tx, organisationId: string) => Promise<void>>;
  /** A membership ended (Clerk `organizationMembership.deleted`). */
  onMembershipEnded: Array<
    (tx: Tx, membership: { userId: string; organisationId: string }) => Promise<void>
  >;
}

export function createIdentityHooks(): IdentityHooks {
  return { onUserDeleted: [], onOrganisationDeleted: [], onMembershipEnded: [] };
}

declare module 'fastify' {
  interface FastifyInstance {
    identityHooks: IdentityHooks;
  }
}
