import type { IntegrationConnectionRow } from '../../integrations/integrations.table.ts';

export const linkSyncModes = ['from_provider', 'two_way'] as const;
export type LinkSync = (typeof linkSyncModes)[number];

export const READ_ONLY_REASON =
  'the Linear connection cannot write (its OAuth grant has no `write` scope): reconnect with write access for two-way sync';

/** Whether MONOid may write to Linear through this connection. */
export function canWriteToLinear(
  connection: Pick<IntegrationConnectionRow, 'authType' | 'scopes'>,
) {
  // A personal API key acts with its owner's full permissions.
  if (connection.authType !== 'oauth') return true;
  return (connection.scopes ?? '').split(/[\s,]+/).some((s) => s === 'write' || s === 'admin');
}

/**
 * The direction a link gets: `two_way` when asked (or by default) and the connection can write;
 * otherwise `from_provider`, with the reason when two-way was not possible.
 */
export function linkDirection(
  connection: Pick<IntegrationConnectionRow, 'authType' | 'scopes'>,
  requested: LinkSync | undefined,
): { sync: LinkSync; syncReason: string | null } {
  if (requested === 'from_provider') return { sync: 'from_provider', syncReason: null };
  if (canWriteToLinear(connection)) return { sync: 'two_way', syncReason: null };
  return { sync: 'from_provider', syncReason: READ_ONLY_REASON };
}
