import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Scope } from '../../src/http/auth-context.ts';
import { createApiKeyForClerkUser } from '../../src/modules/api-keys/api-keys.service.ts';

/**
 * Creates an API key through the real service (argon2id hash, real row), creating the user
 * row when it does not exist. Defaults: a fresh Clerk user id, all scopes, no expiry.
 */
export async function createTestKey(
  app: FastifyInstance,
  opts: {
    clerkUserId?: string;
    scopes?: Scope[];
    expiresAt?: Date;
    name?: string;
    /** `personal` or an organisation id: a workspace-bound key. */
    workspace?: string;
  } = {},
): Promise<{ key: string; keyId: string; userId: string; clerkUserId: string }> {
  const clerkUserId = opts.clerkUserId ?? `user_test_${randomBytes(6).toString('hex')}`;
  const created = await createApiKeyForClerkUser(app.apiKeys.deps, {
    clerkUserId,
    name: opts.name ?? 'test key',
    scopes: opts.scopes ?? ['read', 'write', 'delete'],
    expiresAt: opts.expiresAt ?? null,
    workspace: opts.workspace ?? null,
  });
  return { key: created.key, keyId: created.apiKey.id, userId: created.userId, clerkUserId };
}
