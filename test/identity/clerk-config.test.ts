import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { clerkEnv, clerkJwtPublicKeyPem } from '../helpers/clerk.ts';

describe('Clerk configuration', () => {
  it('parses the Clerk variables', () => {
    const config = loadConfig(
      clerkEnv({ CLERK_AUTHORIZED_PARTIES: ' https://app.monoid.app , http://localhost:5173 ,' }),
    );
    expect(config.CLERK_AUTHORIZED_PARTIES).toEqual([
      'https://app.monoid.app',
      'http://localhost:5173',
    ]);
    expect(config.CLERK_JWT_KEY).toBe(clerkJwtPublicKeyPem.trim());
  });

  it('accepts a one-line PEM with literal \\n escapes', () => {
    const oneLine = clerkJwtPublicKeyPem.trim().replaceAll('\n', '\\n');
    expect(loadConfig({ CLERK_JWT_KEY: oneLine }).CLERK_JWT_KEY).toBe(clerkJwtPublicKeyPem.trim());
  });

  it('treats empty values as unset (Clerk not configured)', () => {
    const config = loadConfig({
      CLERK_SECRET_KEY: '',
      CLERK_PUBLISHABLE_KEY: '',
      CLERK_WEBHOOK_SIGNING_SECRET: '',
    });
    expect(config.CLERK_SECRET_KEY).toBeUndefined();
    expect(config.CLERK_PUBLISHABLE_KEY).toBeUndefined();
    expect(config.CLERK_WEBHOOK_SIGNING_SECRET).toBeUndefined();
  });

  it.each([
    ['CLERK_PUBLISHABLE_KEY', 'pk_test_bm90LWEta2V5'],
    ['CLERK_SECRET_KEY', 'not-a-key'],
    ['CLERK_JWT_KEY', 'MIIBIjANBgkq'],
    ['CLERK_WEBHOOK_SIGNING_SECRET', 'hunter2hunter2'],
  ])('names a malformed %s without echoing it', (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(name);
      expect((err as ConfigError).message).not.toContain(value);
    }
  });
});
