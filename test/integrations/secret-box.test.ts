import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KEY_FILE_NAME,
  loadEncryptionKey,
  parseEncryptionKey,
  SecretBox,
} from '../../src/modules/integrations/secret-box.ts';

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips, with a fresh IV each time', () => {
    const a = box.seal('lin_api_secret', 'ctx');
    const b = box.seal('lin_api_secret', 'ctx');
    expect(a).not.toBe(b);
    expect(a).not.toContain('lin_api_secret');
    expect(a).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(box.open(a, 'ctx')).toBe('lin_api_secret');
  });

  it('refuses another context, another key and any tampering', () => {
    const sealed = box.seal('token', 'access');
    expect(() => box.open(sealed, 'refresh')).toThrow();
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'access')).toThrow();
    const [v, iv, body, tag] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() =>
      box.open([v, iv, flipped.toString('base64url'), tag].join('.'), 'access'),
    ).toThrow();
    expect(() => box.open('plain-text', 'access')).toThrow();
  });
});

describe('encryption key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'monoid-key-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses 64 hex digits and 32-byte base64; refuses other lengths', () => {
    const key = randomBytes(32);
    expect(parseEncryptionKey(key.toString('hex')).equals(key)).toBe(true);
    expect(parseEncryptionKey(key.toString('base64')).equals(key)).toBe(true);
    expect(() => parseEncryptionKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });

  it('uses ENCRYPTION_KEY when set', () => {
    const key = randomBytes(32);
    const loaded = loadEncryptionKey({
      encryptionKey: key.toString('base64'),
      databaseUrl: 'postgres://x/y',
      dataDir: dir,
      nodeEnv: 'production',
    });
    expect(loaded.origin).toBe('config');
    expect(loaded.key.equals(key)).toBe(true);
  });

  it('on the embedded database, generates the key once in DATA_DIR (0600) and reuses it', () => {
    const source = {
      encryptionKey: undefined,
      databaseUrl: undefined,
      dataDir: dir,
      nodeEnv: 'production' as const,
    };
    const first = loadEncryptionKey(source);
    const second = loadEncryptionKey(source);
    expect(first.origin).toBe('data-dir');
    expect(second.key.equals(first.key)).toBe(true);
    const file = join(dir, KEY_FILE_NAME);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.key.toString('base64'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses to start in production on Postgres without ENCRYPTION_KEY', () => {
    expect(() =>
      loadEncryptionKey({
        encryptionKey: undefined,
        databaseUrl: 'postgres://x/y',
        dataDir: dir,
        nodeEnv: 'production',
      }),
    ).toThrow(/ENCRYPTION_KEY is required/);
  });
});
