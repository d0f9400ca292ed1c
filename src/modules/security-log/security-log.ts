import type { FastifyRequest } from 'fastify';
import type { Executor } from '../../db/database.ts';
import { clientAddress } from '../../http/rate-limit.ts';
import { insertSecurityEvents, pruneSecurityEvents } from './security-log.repository.ts';
import type { NewSecurityEventRow } from './security-log.table.ts';

/**
 * The security log's one write path. Call `record(tx, entry)` inside the transaction of the
 * change it describes, so the entry exists exactly when the change does.
 */
export const securityActions = [
  'api_key.created',
  'api_key.rolled',
  'api_key.revoked',
  'api_key.used_from_new_address',
  'connection.connected',
  'connection.reauthorized',
  'connection.disconnected',
  'automation.created',
  'automation.updated',
  'automation.deleted',
  'replay.requested',
] as const;
export type SecurityAction = (typeof securityActions)[number];

/** Why the system (not a person) acted. */
export const securityCauses = [
  'user_deletion',
  'leak_report',
  'membership_end',
  'organisation_deletion',
] as const;
export type SecurityCause = (typeof securityCauses)[number];

export type SecurityActor = { userId: string } | { system: SecurityCause };

export interface SecurityEntry {
  action: SecurityAction;
  actor: SecurityActor;
  target: { type: 'api_key' | 'connection' | 'automation' | 'delivery'; id: string };
  /** Whose log shows it (the key's owner, the member who changed a connection). */
  userId: string;
  /** Also shown to this organisation's admins. */
  organisationId?: string | null;
  address?: string | null;
  userAgent?: string | null;
  /** Names, reasons, URLs: never a key, token or secret. */
  details?: Record<string, string | number | boolean | null>;
  /** Epoch ms; default now. */
  at?: number;
}

/** Who acted and from where: what a request (or the system) adds to an entry. */
export type SecurityContext = Pick<SecurityEntry, 'actor' | 'address' | 'userAgent'>;

/** The acting user, address and user agent of a session (or API-key) request. */
export function requestContext(request: FastifyRequest): SecurityContext {
  const userId = request.sessionUser?.userId ?? request.principal?.userId;
  if (!userId) throw new Error('security log: request has no authenticated user');
  return {
    actor: { userId },
    address: clientAddress(request),
    userAgent: userAgentOf(request),
  };
}

export function userAgentOf(request: FastifyRequest): string | null {
  const value = request.headers['user-agent'];
  return typeof value === 'string' ? value.slice(0, 500) : null;
}

function toRow(e: SecurityEntry, now: number): NewSecurityEventRow {
  return {
    at: e.at ?? now,
    userId: e.userId,
    organisationId: e.organisationId ?? null,
    actorUserId: 'userId' in e.actor ? e.actor.userId : null,
    cause: 'system' in e.actor ? e.actor.system : null,
    action: e.action,
    targetType: e.target.type,
    targetId: e.target.id,
    address: e.address ?? null,
    userAgent: e.userAgent ?? null,
    details: e.details ?? null,
  };
}

export async function record(tx: Executor, entry: SecurityEntry): Promise<void> {
  await insertSecurityEvents(tx, [toRow(entry, Date.now())]);
}

/**
 * The entry of a change a request asked for (`audit` from `requestContext`), in the log of
 * the user who acted; nothing when no request asked (system jobs, service-level calls).
 */
export async function recordRequested(
  tx: Executor,
  audit: SecurityContext | undefined,
  entry: Pick<SecurityEntry, 'action' | 'target' | 'organisationId' | 'details'>,
): Promise<void> {
  if (!audit || !('userId' in audit.actor)) return;
  await record(tx, { ...audit, ...entry, userId: audit.actor.userId });
}

/** Several entries in one statement (a leak report revoking a batch of keys). */
export async function recordMany(tx: Executor, entries: readonly SecurityEntry[]): Promise<void> {
  const now = Date.now();
  await insertSecurityEvents(
    tx,
    entries.map((e) => toRow(e, now)),
  );
}

/** Deletes entries older than the retention window, hourly; returns a stop function. */
export function startRetention(input: {
  db: Executor;
  retentionDays: number;
  onError: (err: unknown) => void;
}): () => void {
  const prune = () =>
    pruneSecurityEvents(input.db, Date.now() - input.retentionDays * 86_400_000).catch(
      input.onError,
    );
  const timer = setInterval(prune, 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
