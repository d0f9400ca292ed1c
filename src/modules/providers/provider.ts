import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import type { ItemStore } from '../automations/automation.effects.ts';
import type { EventSourceDefinition } from '../automations/automation.source.ts';
import type { EventSource } from '../automations/automation.sources.ts';
import type { BackfillView } from '../automations/automations.service.ts';
import type { BackgroundJob } from '../inbox/inbox.worker.ts';
import type { WebhookVerifier } from '../inbox/inbox-intake.ts';
import type { RetentionTarget } from '../inbox/retention.ts';
import type { ConnectionsService } from '../integrations/connections.service.ts';
import type { ConnectionProvider } from '../integrations/integration.provider.ts';
import type { ConnectionFields } from '../integrations/integrations.schemas.ts';
import type { SecretBox } from '../integrations/secret-box.ts';
import type { ApiStyle } from '../metrics/provider-calls.ts';
import type { Workspace } from '../workspaces/workspace.context.ts';
import type { Clock } from './budget/clock.ts';
import type { BudgetStore } from './budget/provider-budget.ts';

/**
 * The one typed contract every provider implements. Each facet is declared by the module
 * that uses it (so inbox, integrations and automations never import a provider):
 * - `webhooks`: verify deliveries and handshakes (inbox);
 * - `events`: normalize events, trigger events and scopes, built-in sync (automations);
 * - `connections`: connect flows, the settings view and routes (integrations);
 * - optional: background jobs (backfills), webhook registration (start/stop), backfill views,
 *   retention of its own tables.
 */
export interface Provider {
  id: string;
  displayName: string;
  webhooks: WebhookVerifier;
  events: EventSource;
  connections: ConnectionProvider;
  /** The provider's API, for the provider-call metrics. */
  api: { url: string; style: ApiStyle };
  /** Its own integration identities (an OAuth app's actor id): the automation loop guard. */
  ownActorIds: readonly string[];
  backgroundJobs: readonly BackgroundJob[];
  listBackfills?(connectionIds: readonly string[]): Promise<BackfillView[]>;
  /** Its own tables' retention (finished backfills), run with the inbox's. */
  retention?: readonly RetentionTarget[];
  /** Starts background work that is not an inbox job (a webhook reconciler). */
  start?(): void;
  stop?(): Promise<void>;
}

/** What a provider is built from (app.ts supplies it). */
export interface ProviderDeps {
  database: Database;
  config: Config;
  log: FastifyBaseLogger;
  box: SecretBox;
  connections: ConnectionsService;
  store: ItemStore;
  /** Shared call budgets (Redis or Postgres) and the clock token expiries are read with. */
  budget: BudgetStore;
  clock: Clock;
  /** Whether a container may be linked from a workspace (the containers feature answers). */
  containerGuard(input: { workspace: Workspace; containerId: string }): Promise<boolean>;
}

/** A provider's static half (schemas, validation) and the factory of its running half. */
export interface ProviderDefinition<P extends Provider = Provider> {
  id: string;
  events: EventSourceDefinition;
  connectionFields: ConnectionFields;
  create(deps: ProviderDeps): P;
}
