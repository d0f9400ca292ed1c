import type { Db } from '../../db/database.ts';
import type { IntegrationsService } from '../integrations/integrations.service.ts';
import { findWorkspaceConnection } from './automation-inbox.repository.ts';
import type { WebhookNeeds } from './automations.service.ts';

/**
 * Rules' webhook needs through the Integrations machinery: one reference-counted need
 * `automation:<id>` on the Linear team's webhook of the workspace's Linear connection.
 * Without a Linear connection there is nothing to register (the rule waits, harmlessly).
 */
export function integrationsWebhookNeeds(db: Db, integrations: IntegrationsService): WebhookNeeds {
  return {
    async acquire({ workspace, teamId, reason }) {
      const connectionId = await findWorkspaceConnection(db, workspace, 'linear');
      if (!connectionId) return;
      await integrations.linearWebhooks.ensure({ connectionId, teamId, reason });
    },
    async release({ workspace, teamId, reason }) {
      const connectionId = await findWorkspaceConnection(db, workspace, 'linear');
      if (!connectionId) return;
      await integrations.linearWebhooks.release({ connectionId, teamId, reason });
    },
  };
}
