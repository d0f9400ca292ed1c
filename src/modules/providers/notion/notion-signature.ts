import { createHmac } from 'node:crypto';
import { safeEqual } from '../../../http/safe-equal.ts';

function hmacHex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** `X-Notion-Signature: sha256=<hex>`, HMAC-SHA256 of the raw body keyed with the verification token. */
export function verifyNotionSignature(input: {
  body: Buffer;
  signature: string;
  verificationToken: string;
}): boolean {
  const expected = `sha256=${hmacHex(input.verificationToken, input.body)}`;
  return safeEqual(expected, input.signature.trim());
}

export function signNotionBody(body: Buffer | string, verificationToken: string): string {
  return `sha256=${hmacHex(verificationToken, Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'))}`;
}
