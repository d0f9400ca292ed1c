import { and, eq, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import {
  type IntegrationConnectionRow,
  integrationConnections,
  integrationOauthStates,
  type ProviderId,
} from './integrations.table.ts';

function workspaceFilter(workspace: Workspace): SQL {
  return workspace.organisationId !== null
    ? eq(integrationConnections.organisationId, workspace.organisationId)
    : (and(
        eq(integrationConnections.userId, workspace.userId),
        sql`${integrationConnections.organisationId} is null`,
      ) as SQL);
}

// --- connections -------------------------------------------------------------------------

export async function findConnection(
  db: Executor,
  input: { provider: ProviderId; workspace: Workspace },
): Promise<IntegrationConnectionRow | undefined> {
  const [row] = await db
    .select()
    .from(integrationConnections)
    .where(
      and(eq(integrationConnections.provider, input.provider), workspaceFilter(input.workspace)),
    )
    .limit(1);
  return row;
}

export async function findConnectionById(
  db: Executor,
  id: string,
): Promise<IntegrationConnectionRow | undefined> {
  const [row] = await db
    .select()
    .from(integrationConnections)
    .where(eq(integrationConnections.id, id))
    .limit(1);
  return row;
}

/** Locks the connection row for the rest of the transaction (serialises webhook changes). */
export async function lockConnection(
  db: Executor,
  id: string,
): Promise<IntegrationConnectionRow | undefined> {
  const [row] = await db
    .select()
    .from(integrationConnections)
    .where(eq(integrationConnections.id, id))
    .for('update')
    .limit(1);
  return row;
}

export async function listConnections(
  db: Executor,
  provider?: ProviderId,
): Promise<IntegrationConnectionRow[]> {
  return db
    .select()
    .from(integrationConnections)
    .where(provider ? eq(integrationConnections.provider, provider) : undefined);
}

export type NewConnection = typeof integrationConnections.$inferInsert;

export async function insertConnection(
  db: Executor,
  values: NewConnection,
): Promise<IntegrationConnectionRow> {
  const [row] = await db.insert(integrationConnections).values(values).returning();
  if (!row) throw new Error('insert returned no row');
  return row;
}

export async function updateConnection(
  db: Executor,
  id: string,
  patch: Partial<NewConnection>,
): Promise<IntegrationConnectionRow | undefined> {
  const [row] = await db
    .update(integrationConnections)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(integrationConnections.id, id))
    .returning();
  return row;
}

export async function deleteConnection(db: Executor, id: string): Promise<void> {
  await db.delete(integrationConnections).where(eq(integrationConnections.id, id));
}

// --- OAuth states ----------------------------------------------------------------------------

export async function insertOauthState(
  db: Executor,
  values: typeof integrationOauthStates.$inferInsert,
): Promise<void> {
  await db.insert(integrationOauthStates).values(values);
  // Opportunistic clean-up of abandoned flows.
  await db.delete(integrationOauthStates).where(lt(integrationOauthStates.expiresAt, new Date()));
}

/**
 * Deletes and returns the state (single use), only when it belongs to this user, workspace
 * and provider: anyone else presenting it is refused without consuming it.
 */
export async function consumeOauthState(
  db: Executor,
  input: {
    stateHash: string;
    provider: ProviderId;
    userId: string;
    organisationId: string | null;
  },
): Promise<typeof integrationOauthStates.$inferSelect | undefined> {
  const [row] = await db
    .delete(integrationOauthStates)
    .where(
      and(
        eq(integrationOauthStates.stateHash, input.stateHash),
        eq(integrationOauthStates.provider, input.provider),
        eq(integrationOauthStates.userId, input.userId),
        input.organisationId === null
          ? isNull(integrationOauthStates.organisationId)
          : eq(integrationOauthStates.organisationId, input.organisationId),
      ),
    )
    .returning();
  return row;
}

// --- owners and workspaces (the automation engine's view) ----------------------------------

/** The owner columns of a connection (the engine needs no secrets). */
export async function findConnectionOwner(db: Executor, id: string) {
  const [row] = await db
    .select({
      id: integrationConnections.id,
      provider: integrationConnections.provider,
      organisationId: integrationConnections.organisationId,
      userId: integrationConnections.userId,
      connectedByUserId: integrationConnections.connectedByUserId,
      status: integrationConnections.status,
    })
    .from(integrationConnections)
    .where(eq(integrationConnections.id, id));
  return row;
}

export async function listWorkspaceConnectionIds(
  db: Executor,
  workspace: { organisationId: string | null; userId: string | null },
): Promise<string[]> {
  const rows = await db
    .select({ id: integrationConnections.id })
    .from(integrationConnections)
    .where(
      workspace.organisationId
        ? eq(integrationConnections.organisationId, workspace.organisationId)
        : eq(integrationConnections.userId, workspace.userId ?? ''),
    );
  return rows.map((r) => r.id);
}

export async function findWorkspaceConnectionId(
  db: Executor,
  workspace: { organisationId: string | null; userId: string | null },
  provider: ProviderId,
): Promise<string | null> {
  const [row] = await db
    .select({ id: integrationConnections.id })
    .from(integrationConnections)
    .where(
      and(
        eq(integrationConnections.provider, provider),
        workspace.organisationId
          ? eq(integrationConnections.organisationId, workspace.organisationId)
          : eq(integrationConnections.userId, workspace.userId ?? ''),
      ),
    );
  return row?.id ?? null;
}

/** Connections of one provider workspace (a Notion workspace may be connected twice). */
export async function findConnectionsByExternalWorkspace(
  db: Executor,
  input: { provider: ProviderId; externalWorkspaceId: string },
): Promise<IntegrationConnectionRow[]> {
  return db
    .select()
    .from(integrationConnections)
    .where(
      and(
        eq(integrationConnections.provider, input.provider),
        eq(integrationConnections.externalWorkspaceId, input.externalWorkspaceId),
      ),
    );
}
