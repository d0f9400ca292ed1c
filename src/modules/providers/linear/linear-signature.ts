import { createHmac } from 'node:crypto';
import { safeEqual } from '../../../http/safe-equal.ts';

/** Linear rejects deliveries whose `webhookTimestamp` is more than 60 s from now; so do we. */
export const LINEAR_TIMESTAMP_TOLERANCE_MS = 60_000;

function hmacHex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** `Linear-Signature`: lowercase hex HMAC-SHA256 of the raw body, no prefix. */
export function verifyLinearSignature(input: {
  body: Buffer;
  signature: string;
  secret: string;
}): boolean {
  return safeEqual(hmacHex(input.secret, input.body), input.signature.trim().toLowerCase());
}

export function signLinearBody(body: Buffer | string, secret: string): string {
  return hmacHex(secret, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'));
}

export type TimestampCheck = 'ok' | 'missing' | 'stale' | 'future';

/** `webhookTimestamp` (Unix ms, inside the signed body) must be within 60 s of now, both ways. */
export function checkLinearTimestamp(value: unknown, now: number): TimestampCheck {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'missing';
  if (value < now - LINEAR_TIMESTAMP_TOLERANCE_MS) return 'stale';
  if (value > now + LINEAR_TIMESTAMP_TOLERANCE_MS) return 'future';
  return 'ok';
}
