import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_FILE_NAME = 'encryption.key';

/**
 * AES-256-GCM for secrets at rest (provider tokens, webhook secrets). A sealed value is
 * `v1.<iv>.<ciphertext>.<tag>` (base64url). The `context` string is authenticated data: a
 * ciphertext sealed for one purpose (e.g. `linear-webhook-secret`) does not open as another.
 * The version prefix leaves room for key rotation later.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the encryption key must be 32 bytes');
    this.#key = Buffer.from(key);
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      iv.toString('base64url'),
      body.toString('base64url'),
      tag.toString('base64url'),
    ].join('.');
  }

  /**
   * A keyed digest (HMAC-SHA256, base64url) of `value` for `context`: a value only this server
   * can compute, e.g. the PKCE verifier of an OAuth state it issued (so none is stored).
   */
  mac(value: string, context: string): string {
    return createHmac('sha256', this.#key).update(`${context}\n${value}`).digest('base64url');
  }

  /** Throws when the value was tampered with, sealed under another key or another context. */
  open(sealed: string, context: string): string {
    const [version, iv64, body64, tag64] = sealed.split('.');
    if (version !== VERSION || iv64 === undefined || body64 === undefined || tag64 === undefined)
      throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv64, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag64, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(body64, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  }
}

/** Parses `ENCRYPTION_KEY`: 32 bytes as 64 hex digits or base64 / base64url. */
export function parseEncryptionKey(value: string): Buffer {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  const decoded = Buffer.from(trimmed, /[-_]/.test(trimmed) ? 'base64url' : 'base64');
  if (decoded.length !== 32)
    throw new Error('ENCRYPTION_KEY must be 32 bytes (64 hex digits or 44 base64 characters)');
  return decoded;
}

export interface KeySource {
  encryptionKey: string | undefined;
  /** Postgres URL when on Postgres; undefined on the embedded database. */
  databaseUrl: string | undefined;
  dataDir: string;
  nodeEnv: 'development' | 'test' | 'production';
}

export interface LoadedKey {
  key: Buffer;
  origin: 'config' | 'data-dir' | 'ephemeral';
}

/**
 * Where the key comes from:
 * - `ENCRYPTION_KEY` when set (required in production on Postgres, where several instances
 *   must share the key and no local directory is authoritative);
 * - otherwise, with `DATA_DIR=memory` (tests), a random key for this process only;
 * - otherwise a key generated once and kept in `DATA_DIR/encryption.key` (mode 0600), next to
 *   the embedded database whose secrets it protects.
 */
export function loadEncryptionKey(source: KeySource): LoadedKey {
  if (source.encryptionKey)
    return { key: parseEncryptionKey(source.encryptionKey), origin: 'config' };
  if (source.dataDir === 'memory') return { key: randomBytes(32), origin: 'ephemeral' };
  if (source.databaseUrl && source.nodeEnv === 'production')
    throw new Error(
      'ENCRYPTION_KEY is required in production on Postgres (32 bytes, e.g. `openssl rand -base64 32`)',
    );
  mkdirSync(source.dataDir, { recursive: true });
  const file = join(source.dataDir, KEY_FILE_NAME);
  if (!existsSync(file)) {
    // 'wx' fails if another process created the file in between; then we read theirs.
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  try {
    chmodSync(file, 0o600);
  } catch {
    // Best effort (some filesystems have no modes).
  }
  return { key: parseEncryptionKey(readFileSync(file, 'utf8')), origin: 'data-dir' };
}
