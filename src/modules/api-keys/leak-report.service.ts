import { createHash, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { recordMany } from '../security-log/security-log.ts';
import { parseApiKey } from './api-key.format.ts';
import type { ApiKeyHasher } from './api-key.hasher.ts';
import type { ApiKeyVerifier } from './api-key.verifier.ts';
import { findKeysByPublicIds, type KeyForLeakCheck, revokeMany } from './api-keys.repository.ts';

/** GitHub's secret-scanning match: one per token found (several per request). */
export const leakReportSchema = z.array(
  z
    .object({
      token: z.string().max(10_000),
      type: z.string().max(200),
      url: z.string().max(10_000).optional(),
      source: z.string().max(200).optional(),
    })
    .loose(),
);
export type LeakReport = z.infer<typeof leakReportSchema>;

export interface LeakFeedback {
  token_hash: string;
  token_type: string;
  label: 'true_positive' | 'false_positive';
}

/**
 * ECDSA P-256 / SHA-256 over the exact bytes received; the signature is base64 of the DER
 * encoding. False (never a throw) for anything malformed.
 */
export function verifyGithubSignature(input: {
  body: Buffer;
  signature: string;
  key: KeyObject;
}): boolean {
  try {
    return verify('sha256', input.body, input.key, Buffer.from(input.signature, 'base64'));
  } catch {
    return false;
  }
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const REASON_MAX = 500;

export interface LeakDeps {
  database: Database;
  hasher: ApiKeyHasher;
  verifier: ApiKeyVerifier;
}

/**
 * Handles a verified report: every `mo_` token whose checksum holds and whose secret verifies
 * against its key is revoked (reason `leaked: <url>`) in one transaction, which also writes the
 * owners' security-log entries and queues the cross-instance invalidation (delivered on commit).
 * Labels: `true_positive` for a real key (revoked now or before), `false_positive` otherwise.
 */
export async function handleLeakReport(
  deps: LeakDeps,
  report: LeakReport,
): Promise<LeakFeedback[]> {
  // Distinct well-formed candidates: the checksum filters noise before any query.
  const candidates = new Map<string, { publicId: string; secret: string }>();
  for (const item of report) {
    if (candidates.has(item.token)) continue;
    const parsed = parseApiKey(item.token);
    if (parsed.ok) candidates.set(item.token, { publicId: parsed.publicId, secret: parsed.secret });
  }
  const rows = await findKeysByPublicIds(deps.database.db, [
    ...new Set([...candidates.values()].map((c) => c.publicId)),
  ]);
  const byPublicId = new Map(rows.map((r) => [r.publicId, r]));

  // Verify secrets at most `hasher.concurrency` at a time, so a large batch never overflows
  // the hasher's queue (which API-key verifications share).
  const genuine = new Map<string, KeyForLeakCheck>();
  const work = [...candidates].flatMap(([token, c]) => {
    const row = byPublicId.get(c.publicId);
    return row ? [{ token, row, secret: c.secret }] : [];
  });
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const item = work[next++];
      if (!item) break;
      if (await deps.hasher.verify(item.row.secretHash, item.secret)) {
        genuine.set(item.token, item.row);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, deps.hasher.concurrency) }, worker));

  const now = deps.verifier.now();
  const toRevoke = new Map<string, { row: KeyForLeakCheck; item: LeakReport[number] }>();
  for (const item of report) {
    const row = genuine.get(item.token);
    if (!row || row.revokedAt || toRevoke.has(row.id)) continue;
    if (row.expiresAt && row.expiresAt.getTime() <= now) continue;
    toRevoke.set(row.id, { row, item });
  }
  if (toRevoke.size > 0) {
    await deps.database.db.transaction(async (tx) => {
      const entries = [...toRevoke.values()];
      const revoked = new Set(
        await revokeMany(tx, {
          at: new Date(now),
          keys: entries.map(({ row, item }) => ({
            id: row.id,
            reason: `leaked: ${item.url ?? 'unknown location'}`.slice(0, REASON_MAX),
          })),
        }),
      );
      const done = entries.filter(({ row }) => revoked.has(row.id));
      await recordMany(
        tx,
        done.map(({ row, item }) => ({
          action: 'api_key.revoked',
          actor: { system: 'leak_report' },
          target: { type: 'api_key', id: row.id },
          userId: row.userId,
          organisationId: row.workspaceId === row.userId ? null : row.workspaceId,
          at: now,
          details: {
            url: item.url?.slice(0, 2_000) ?? null,
            source: item.source ?? null,
          },
        })),
      );
      await deps.verifier.invalidateOnCommit(
        tx,
        done.map(({ row }) => ({ keyId: row.id })),
      );
    });
  }

  return report.map((item) => {
    const row = genuine.get(item.token);
    const real = row !== undefined && (row.revokedAt !== null || toRevoke.has(row.id));
    return {
      token_hash: tokenHash(item.token),
      token_type: item.type,
      label: real ? 'true_positive' : 'false_positive',
    };
  });
}
