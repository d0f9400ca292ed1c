import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_LENGTH,
  API_KEY_PATTERN,
  checksumOf,
  crc32,
  displayKey,
  generateApiKey,
  parseApiKey,
  randomBase62,
  SECRET_LENGTH,
} from '../../src/modules/api-keys/api-key.format.ts';

describe('mo_ key format', () => {
  it('generates URL-safe keys of fixed length that parse back to their parts', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const g = generateApiKey();
      expect(g.key).toHaveLength(API_KEY_LENGTH);
      expect(g.key).toMatch(/^mo_[0-9A-Za-z]{42}$/);
      expect(API_KEY_PATTERN.test(`token=${g.key};`)).toBe(true);
      expect(encodeURIComponent(g.key)).toBe(g.key);
      expect(g.lastFour).toBe(g.key.slice(-4));
      const parsed = parseApiKey(g.key);
      expect(parsed).toEqual({ ok: true, publicId: g.publicId, secret: g.secret });
      seen.add(g.key);
    }
    expect(seen.size).toBe(200);
  });

  it('carries at least 128 bits of secret', () => {
    expect(SECRET_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(128);
  });

  it('computes the standard CRC-32 (same as zlib)', () => {
    for (const s of ['', 'a', 'mo_abc', 'The quick brown fox jumps over the lazy dog']) {
      expect(crc32(s)).toBe(zlibCrc32(s));
    }
    expect(crc32('123456789')).toBe(0xcbf43926);
  });

  it('rejects a mistyped key by checksum', () => {
    const { key } = generateApiKey();
    // Change one character of the secret to a different base62 character.
    const i = 20;
    const swapped = key[i] === 'A' ? 'B' : 'A';
    const typo = key.slice(0, i) + swapped + key.slice(i + 1);
    expect(parseApiKey(typo)).toEqual({ ok: false, reason: 'checksum' });
    // Transposed neighbours are caught as well.
    const t = key.slice(0, 10) + key[11] + key[10] + key.slice(12);
    if (t !== key) expect(parseApiKey(t).ok).toBe(false);
  });

  it('rejects invented and malformed keys', () => {
    const body = `mo_${randomBase62(36)}`;
    expect(parseApiKey(`${body}000000`).ok).toBe(checksumOf(body) === '000000');
    for (const bad of [
      '',
      'mo_',
      'mo_short',
      `sk_${'a'.repeat(42)}`,
      `mo_${'a'.repeat(41)}-`,
      `mo_${'a'.repeat(43)}`,
      `MO_${'a'.repeat(42)}`,
    ]) {
      expect(parseApiKey(bad)).toEqual({ ok: false, reason: 'format' });
    }
  });

  it('displays mo_ and the last four', () => {
    expect(displayKey('a1b2')).toBe('mo_...a1b2');
  });

  it('draws base62 characters without bias', () => {
    const counts = new Map<string, number>();
    const sample = randomBase62(62_000);
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(700);
      expect(n).toBeLessThan(1300);
    }
    // `byte % 62` would favour the first 8 characters (0-7) by 5/4: ~1210 each instead of
    // ~1000. Their mean has a standard deviation of ~11 when unbiased, so ±60 cannot flake.
    const firstEight = [...'01234567'].map((c) => counts.get(c) ?? 0);
    const mean = firstEight.reduce((a, b) => a + b, 0) / firstEight.length;
    expect(Math.abs(mean - 1000)).toBeLessThan(60);
  });
});
