import { parseJsonObject } from '../../http/raw-body.ts';
import { webhookBadRequest } from './inbox.errors.ts';
import type { RequestHeaders } from './inbox-intake.ts';

/**
 * Reading an untrusted delivery in a provider's verifier (`import * as read`): each reader
 * answers null/undefined for a missing or malformed value, and the verifier decides which
 * absence is a 400.
 */

type Json = Record<string, unknown>;

/** The first value of a header, or undefined when absent or empty. */
export function header(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.length > 0 ? first : undefined;
}

export function string(value: unknown, maxLength = 200): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength ? value : null;
}

export function isoTime(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

export function object(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Json)
    : undefined;
}

/**
 * The verified body as text for the jsonb column. Postgres' jsonb cannot hold U+0000, which
 * JSON allows (`\u0000`); such a body would fail the insert and be lost after the provider's
 * retries. Only then is the payload re-serialised, with NULs removed from strings; the
 * signature was already checked over the original bytes.
 */
export function storablePayload(raw: Buffer): string {
  const text = raw.toString('utf8');
  if (!text.includes('\\u0000')) return text;
  return JSON.stringify(JSON.parse(text), (_key, value: unknown) =>
    typeof value === 'string' ? value.replaceAll('\u0000', '') : value,
  );
}

/** The body as a JSON object, or a 400 (before any signature work). */
export function jsonBody(body: Buffer): Json {
  const payload = parseJsonObject(body);
  if (!payload) throw webhookBadRequest('The body is not a JSON object.');
  return payload;
}
