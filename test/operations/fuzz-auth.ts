import type { TestApp } from '../helpers/app.ts';

/**
 * Credentials for the bad-input suite, so that hostile input reaches validation and the
 * services behind authentication, not only the auth layer.
 */
const headers: Record<string, Record<string, string>> = {};

export async function prepareFuzzAuth(_t: TestApp): Promise<void> {}

export function authHeadersFor(path: string): Record<string, string> {
  for (const [prefix, h] of Object.entries(headers)) if (path.startsWith(prefix)) return h;
  return {};
}
