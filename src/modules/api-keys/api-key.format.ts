import { randomBytes } from 'node:crypto';

/**
 * The `mo_` key format. Pure functions only: no I/O, no database.
 *
 *   mo_ <public id: 12> <secret: 24> <checksum: 6>      (45 characters, all [0-9A-Za-z_])
 *
 * - public id: 12 base62 characters (~71 bits) from the CSPRNG; looked up by an indexed,
 *   unique column. It is not secret, but is only ever shown as part of the full key.
 * - secret: 24 base62 characters (~142 bits ≥ 128) from the CSPRNG; stored only as an
 *   argon2id hash.
 * - checksum: CRC32 of everything before it (prefix included), in base62, left-padded to 6
 *   characters (62^6 > 2^32), as GitHub's tokens do. A mistyped or invented key fails here,
 *   before any database query. The checksum is not a secret and proves nothing about the key's
 *   validity; it only filters noise cheaply and lets secret scanners confirm a match.
 *
 * Every character is URL-safe; a scanner matches `\bmo_[0-9A-Za-z]{42}\b`.
 */
export const API_KEY_PREFIX = 'mo_';
export const PUBLIC_ID_LENGTH = 12;
export const SECRET_LENGTH = 24;
export const CHECKSUM_LENGTH = 6;
export const API_KEY_LENGTH =
  API_KEY_PREFIX.length + PUBLIC_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;
/** For secret scanners and documentation. */
export const API_KEY_PATTERN = /\bmo_[0-9A-Za-z]{42}\b/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY_RE = /^[0-9A-Za-z]+$/;

/** Uniform random base62 string: rejection sampling, so no character is more likely. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (const byte of bytes) {
      // 248 = 4 * 62: bytes >= 248 would bias the first characters; drop them.
      if (byte < 248) out += BASE62.charAt(byte % 62);
      if (out.length === length) break;
    }
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib), over the UTF-8 bytes of an ASCII string. */
export function crc32(input: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < input.length; i++) {
    const index = (crc ^ input.charCodeAt(i)) & 0xff;
    crc = (CRC_TABLE[index] ?? 0) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function toBase62(value: number, width: number): string {
  let n = value;
  let out = '';
  do {
    out = BASE62.charAt(n % 62) + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}

export function checksumOf(body: string): string {
  return toBase62(crc32(body), CHECKSUM_LENGTH);
}

export interface GeneratedApiKey {
  /** The full key, shown to its owner once. */
  key: string;
  publicId: string;
  secret: string;
  lastFour: string;
}

export function generateApiKey(): GeneratedApiKey {
  const publicId = randomBase62(PUBLIC_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${API_KEY_PREFIX}${publicId}${secret}`;
  const key = `${body}${checksumOf(body)}`;
  return { key, publicId, secret, lastFour: key.slice(-4) };
}

export type ParsedApiKey =
  | { ok: true; publicId: string; secret: string }
  | { ok: false; reason: 'format' | 'checksum' };

/** Validates shape and checksum; never touches the database. */
export function parseApiKey(candidate: string): ParsedApiKey {
  if (candidate.length !== API_KEY_LENGTH || !candidate.startsWith(API_KEY_PREFIX)) {
    return { ok: false, reason: 'format' };
  }
  const rest = candidate.slice(API_KEY_PREFIX.length);
  if (!BODY_RE.test(rest)) return { ok: false, reason: 'format' };
  const body = candidate.slice(0, API_KEY_LENGTH - CHECKSUM_LENGTH);
  const checksum = candidate.slice(API_KEY_LENGTH - CHECKSUM_LENGTH);
  if (checksumOf(body) !== checksum) return { ok: false, reason: 'checksum' };
  return {
    ok: true,
    publicId: rest.slice(0, PUBLIC_ID_LENGTH),
    secret: rest.slice(PUBLIC_ID_LENGTH, PUBLIC_ID_LENGTH + SECRET_LENGTH),
  };
}

/** What lists show: `mo_...a1b2`. */
export function displayKey(lastFour: string): string {
  return `${API_KEY_PREFIX}...${lastFour}`;
}
