import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/database.ts';
import { memberships, organisations, users } from '../../src/db/schema.ts';
import { signLinearBody } from '../../src/modules/integrations/webhook-signatures.ts';

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
