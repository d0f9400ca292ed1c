import { and, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../../db/database.ts';
import {
  type LinearTeamLinkRow,
  type LinearWebhookRegistrationRow,
  linearTeamLinks,
  linearWebhookNeeds,
  linearWebhookRegistrations,
} from './linear.table.ts';

export interface WebhookLookup {
  registrationId: string;
  connectionId: string;
  teamId: string;
  secretEnc: string;
}

export async function findRegistrationByProviderWebhookId(
  db: Executor,
  providerWebhookId: string,
): Promise<WebhookLookup | undefined> {
  const [row] = await db
    .select({
      registrationId: linearWebhookRegistrations.id,
      connectionId: linearWebhookRegistrations.connectionId,
      teamId: linearWebhookRegistrations.teamId,
      secretEnc: linearWebhookRegistrations.secretEnc,
    })
    .from(linearWebhookRegistrations)
    .where(eq(linearWebhookRegistrations.providerWebhookId, providerWebhookId))
    .limit(1);
  return row;
}

export async function findRegistration(
  db: Executor,
  input: { connectionId: string; teamId: string },
): Promise<LinearWebhookRegistrationRow | undefined> {
  const [row] = await db
    .select()
    .from(linearWebhookRegistrations)
    .where(
      and(
        eq(linearWebhookRegistrations.connectionId, input.connectionId),
        eq(linearWebhookRegistrations.teamId, input.teamId),
      ),
    )
    .limit(1);
  return row;
}

export async function listRegistrations(
  db: Executor,
  connectionId: string,
): Promise<Array<LinearWebhookRegistrationRow & { needs: number }>> {
  const rows = await db
    .select({ registration: linearWebhookRegistrations, needs: count(linearWebhookNeeds.reason) })
    .from(linearWebhookRegistrations)
    .leftJoin(
      linearWebhookNeeds,
      eq(linearWebhookNeeds.registrationId, linearWebhookRegistrations.id),
    )
    .where(eq(linearWebhookRegistrations.connectionId, connectionId))
    .groupBy(linearWebhookRegistrations.id)
    .orderBy(linearWebhookRegistrations.createdAt);
  return rows.map((r) => ({ ...r.registration, needs: Number(r.needs) }));
}

export type NewRegistration = typeof linearWebhookRegistrations.$inferInsert;

export async function insertRegistration(
  db: Executor,
  values: NewRegistration,
): Promise<LinearWebhookRegistrationRow> {
  const [row] = await db.insert(linearWebhookRegistrations).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function updateRegistration(
  db: Executor,
  id: string,
  patch: Partial<NewRegistration>,
): Promise<void> {
  await db
    .update(linearWebhookRegistrations)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(linearWebhookRegistrations.id, id));
}

export async function deleteRegistration(db: Executor, id: string): Promise<void> {
  await db.delete(linearWebhookRegistrations).where(eq(linearWebhookRegistrations.id, id));
}

export async function addNeed(
  db: Executor,
  input: { registrationId: string; reason: string },
): Promise<void> {
  await db.insert(linearWebhookNeeds).values(input).onConflictDoNothing();
}

export async function removeNeed(
  db: Executor,
  input: { registrationId: string; reason: string },
): Promise<void> {
  await db
    .delete(linearWebhookNeeds)
    .where(
      and(
        eq(linearWebhookNeeds.registrationId, input.registrationId),
        eq(linearWebhookNeeds.reason, input.reason),
      ),
    );
}

export async function countNeeds(db: Executor, registrationId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(linearWebhookNeeds)
    .where(eq(linearWebhookNeeds.registrationId, registrationId));
  return Number(row?.n ?? 0);
}

export async function listNeeds(db: Executor, registrationId: string): Promise<string[]> {
  const rows = await db
    .select({ reason: linearWebhookNeeds.reason })
    .from(linearWebhookNeeds)
    .where(eq(linearWebhookNeeds.registrationId, registrationId))
    .orderBy(linearWebhookNeeds.reason);
  return rows.map((r) => r.reason);
}

/**
 * Drops `container:<id>` needs whose team link is gone (a container deleted by a cascade, a
 * link removed outside the service), so that the reconciler can release their webhooks.
 */
export async function pruneStaleContainerNeeds(
  db: Executor,
  connectionId: string,
): Promise<number> {
  const result = (await db.execute(sql`
    delete from linear_webhook_needs n
    using linear_webhook_registrations r
    where n.registration_id = r.id
      and r.connection_id = ${connectionId}::uuid
      and n.reason like 'container:%'
      and not exists (
        select 1 from linear_team_links l
        where l.connection_id = r.connection_id
          and l.team_id = r.team_id
          and 'container:' || l.container_id::text = n.reason)
    returning n.reason`)) as unknown as { rows: unknown[] };
  return result.rows.length;
}

// --- team links ----------------------------------------------------------------------------

export async function findLinkByContainer(
  db: Executor,
  containerId: string,
): Promise<LinearTeamLinkRow | undefined> {
  const [row] = await db
    .select()
    .from(linearTeamLinks)
    .where(eq(linearTeamLinks.containerId, containerId))
    .limit(1);
  return row;
}

export async function listLinks(db: Executor, connectionId: string): Promise<LinearTeamLinkRow[]> {
  return db
    .select()
    .from(linearTeamLinks)
    .where(eq(linearTeamLinks.connectionId, connectionId))
    .orderBy(desc(linearTeamLinks.createdAt));
}

export async function insertLink(
  db: Executor,
  values: typeof linearTeamLinks.$inferInsert,
): Promise<LinearTeamLinkRow> {
  const [row] = await db.insert(linearTeamLinks).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function updateLinkSync(
  db: Executor,
  id: string,
  values: Pick<typeof linearTeamLinks.$inferInsert, 'sync' | 'syncReason'>,
): Promise<LinearTeamLinkRow | undefined> {
  const [row] = await db
    .update(linearTeamLinks)
    .set(values)
    .where(eq(linearTeamLinks.id, id))
    .returning();
  return row;
}

export async function deleteLink(db: Executor, id: string): Promise<void> {
  await db.delete(linearTeamLinks).where(eq(linearTeamLinks.id, id));
}

/** Containers linked to any of these Linear teams through this connection. */
export async function listTeamLinks(
  db: Executor,
  input: { connectionId: string; teamIds: readonly string[] },
) {
  if (input.teamIds.length === 0) return [];
  return db
    .select()
    .from(linearTeamLinks)
    .where(
      and(
        eq(linearTeamLinks.connectionId, input.connectionId),
        inArray(linearTeamLinks.teamId, input.teamIds),
      ),
    );
}
