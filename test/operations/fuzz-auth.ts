import { createTestKey } from '../helpers/api-keys.ts';
import type { TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';

/**
 * Credentials for the bad-input suite, so that hostile input reaches validation and the
 * services behind authentication, not only the auth layers.
 */
const headers: Record<string, Record<string, string>> = {};

/** Env for the fuzzed app: every surface configured. */
export function fuzzEnv(): Record<string, string | undefined> {
  return {
    ...clerkEnv({ CLERK_AUTHORIZED_PARTIES: undefined }),
    // The suite sends thousands of requests with one key from one address on purpose.
    API_RATE_LIMIT_PER_MINUTE: '1000000',
    ADDRESS_RATE_LIMIT_PER_MINUTE: '1000000',
    WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
  };
}

export async function prepareFuzzAuth(t: TestApp): Promise<void> {
  const { key } = await createTestKey(t.app, {
    clerkUserId: 'user_fuzz_admin',
    scopes: ['read', 'write', 'delete'],
  });
  headers['/api/v1'] = { authorization: `Bearer ${key}` };
  const token = mintSessionToken({
    sub: 'user_fuzz_admin',
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  headers['/api/settings'] = { authorization: `Bearer ${token}` };
}

export function authHeadersFor(path: string): Record<string, string> {
  for (const [prefix, h] of Object.entries(headers)) if (path.startsWith(prefix)) return h;
  return {};
}
