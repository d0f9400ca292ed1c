import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../../config.ts';
import type { Database } from '../../../db/database.ts';
import type { ConnectionsService } from '../../integrations/connections.service.ts';
import type { ConnectionProvider } from '../../integrations/integration.provider.ts';
import type { SecretBox } from '../../integrations/secret-box.ts';
import type { Clock } from '../budget/clock.ts';
import type { BudgetStore } from '../budget/provider-budget.ts';
import { outboxPusherSettings } from '../outbox/outbox-pusher.ts';
import { NOTION } from './notion.id.ts';
import { notionConnectionFields } from './notion.schemas.ts';
import { createNotionCallPath } from './notion-call-path.ts';
import { NOTION_NAME, NotionConnectService } from './notion-connect.service.ts';
import { NotionWebhookVerifier } from './notion-intake.ts';
import { isOwnPageWrite } from './notion-push.repository.ts';
import { NotionPushRunner } from './notion-push.ts';
import { NotionReader } from './notion-reader.ts';
import { notionSettingsRoutes } from './notion-settings.routes.ts';
import { createNotionEventSource, notionEventSource } from './notion-source.ts';

const ms = (d: Date | null) => (d ? d.getTime() : null);

/** What Notion is built from (app.ts supplies it through the registry). */
export interface NotionDeps {
  database: Database;
  config: Config;
  box: SecretBox;
  log: FastifyBaseLogger;
  connections: ConnectionsService;
  budget: BudgetStore;
  clock: Clock;
}

/** Notion: one subscription per integration (made in Notion's UI), sparse page events. */
export const notionProvider = {
  id: NOTION,
  events: notionEventSource,
  connectionFields: notionConnectionFields,
  create(deps: NotionDeps) {
    const { database, config, box, connections } = deps;
    const db = database.db;
    const callPath = createNotionCallPath({
      db,
      box,
      config,
      log: deps.log,
      clock: deps.clock,
      budget: deps.budget,
    });
    const connect = new NotionConnectService({ db, box, config, connections, callPath });
    const reader = new NotionReader((connectionId) => connect.clientFor(connectionId));
    const push = new NotionPushRunner({
      db,
      notionClient: (connectionId) => connect.clientFor(connectionId),
      log: deps.log,
      ...outboxPusherSettings(config),
    });
    return {
      id: NOTION,
      displayName: NOTION_NAME,
      connect,
      reader,
      api: { url: config.NOTION_API_URL, style: 'rest' as const },
      ownActorIds: [],
      webhooks: new NotionWebhookVerifier(
        db,
        box,
        config.NOTION_EVENT_MAX_AGE_HOURS * 3_600_000,
        deps.log,
      ),
      push,
      events: createNotionEventSource(reader, (input) => isOwnPageWrite(db, input)),
      connections: {
        id: NOTION,
        displayName: NOTION_NAME,
        fields: notionConnectionFields,
        oauth: {
          authorizeUrl: (state) => connect.authorizeUrl(state),
          exchange: (code) => connect.exchange(code),
        },
        async view(c, viewer) {
          // The URL names the connection: whoever knows it can post a handshake token, so
          // only those who confirm tokens see it (and where the confirmed token came from).
          return {
            notion: {
              webhookUrl: viewer.admin ? connect.webhookUrl(c) : null,
              verified: c.notionVerificationTokenEnc !== null,
              verifiedAt: ms(c.notionVerifiedAt),
              handshakeReceivedAt: viewer.admin ? ms(c.notionVerifiedReceivedAt) : null,
              handshakeFrom: viewer.admin ? c.notionVerifiedFrom : null,
              pendingVerification: c.notionPendingTokenEnc !== null,
              pendingReceivedAt: ms(c.notionPendingReceivedAt),
            },
          };
        },
        settingsRoutes: notionSettingsRoutes(connect),
      } satisfies ConnectionProvider,
      backgroundJobs: [push],
    };
  },
};
