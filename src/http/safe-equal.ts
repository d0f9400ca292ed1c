import { timingSafeEqual } from 'node:crypto';

/**
 * Constant-time comparison of two secrets (tokens, signatures); false, not a throw, when the
 * lengths differ (timingSafeEqual throws on unequal lengths, and length is not secret here).
 */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
