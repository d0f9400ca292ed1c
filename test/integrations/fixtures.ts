import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Db } from '../../src/db/database.ts';
import { containers, memberships, organisations, users } from '../../src/db/schema.ts';
import { signLinearBody } from '../../src/modules/providers/linear/linear-signature.ts';

export async function createUser(db: Db, email = `${randomUUID()}@example.com`) {
  const [user] = await db
    .insert(users)
    .values({ clerkId: `user_${randomUUID()}`, email })
    .returning();
  return user!;
}

export async function createOrganisation(db: Db, members: Array<{ userId: string; role: string }>) {
  const [org] = await db
    .insert(organisations)
    .values({ clerkId: `org_${randomUUID()}`, name: 'Org' })
    .returning();
  for (const m of members)
    await db
      .insert(memberships)
      .values({ userId: m.userId, organisationId: org!.id, role: m.role });
  return org!;
}

/** A Linear-shaped Issue delivery for `webhookId`, timestamped `at` (ms). */
export function linearIssuePayload(input: {
  webhookId: string;
  teamId: string;
  at?: number;
  issueId?: string;
  action?: string;
}) {
  const at = input.at ?? Date.now();
  return {
    action: input.action ?? 'create',
    type: 'Issue',
    createdAt: new Date(at).toISOString(),
    organizationId: randomUUID(),
    url: 'https://linear.app/acme/issue/ENG-1',
    webhookId: input.webhookId,
    webhookTimestamp: at,
    data: { id: input.issueId ?? randomUUID(), title: 'Fix the thing', teamId: input.teamId },
    actor: { id: randomUUID(), type: 'user', name: 'Ada', email: 'ada@example.com' },
  };
}

export function linearHeaders(body: string, secret: string, deliveryId: string = randomUUID()) {
  return {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Linear-Webhook',
    'linear-delivery': deliveryId,
    'linear-event': 'Issue',
    'linear-signature': signLinearBody(body, secret),
  };
}

/**
 * A container row in a workspace (linking needs a real container of the connection's own
 * workspace). `organisationClerkId` selects an organisation workspace; else personal.
 */
export async function createContainer(
  db: Db,
  input: { userId?: string; userClerkId?: string; organisationClerkId?: string; id?: string },
): Promise<string> {
  let userId = input.userId;
  if (!userId && input.userClerkId) {
    const [user] = await db.select().from(users).where(eq(users.clerkId, input.userClerkId));
    userId = user?.id;
  }
  if (!userId) throw new Error('createContainer needs a user');
  let organisationId: string | null = null;
  if (input.organisationClerkId) {
    const [org] = await db
      .select()
      .from(organisations)
      .where(eq(organisations.clerkId, input.organisationClerkId));
    if (!org) throw new Error(`no organisation ${input.organisationClerkId}`);
    organisationId = org.id;
  }
  const now = Date.now();
  const [row] = await db
    .insert(containers)
    .values({
      ...(input.id ? { id: input.id } : {}),
      userId,
      organisationId,
      workspaceId: organisationId ?? userId,
      name: `Container ${randomUUID().slice(0, 8)}`,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return row!.id;
}
