import { EventSources } from '../automations/automation.sources.ts';
import { createIntegrationSchemas } from '../integrations/integrations.schemas.ts';
import { linearProvider } from './linear/linear.provider.ts';
import { notionProvider } from './notion/notion.provider.ts';
import type { Provider, ProviderDefinition, ProviderDeps } from './provider.ts';

/**
 * The only list of providers. A new provider is one folder under `providers/`, one line
 * here, a migration for its tables and its variables in `src/config.ts`.
 */
export const providerDefinitions = [
  linearProvider,
  notionProvider,
] as const satisfies readonly ProviderDefinition[];

export type ProviderId = (typeof providerDefinitions)[number]['id'];

/** The providers' rule-trigger sources, static (validation, dry-run payloads, tests). */
export const eventSourceDefinitions = providerDefinitions.map((d) => d.events);

/** Settings shapes that list the providers (built once: schema ids are global). */
export const integrationSchemas = createIntegrationSchemas(
  providerDefinitions.map((d) => ({ id: d.id, fields: d.connectionFields })),
);

type Definitions = (typeof providerDefinitions)[number];

/** The running providers: each by its id (typed), and as a list. */
export type ProviderRegistry = {
  [D in Definitions as D['id']]: ReturnType<D['create']>;
} & {
  list: readonly Provider[];
  get(id: string): Provider | undefined;
  /** Every provider's event source, for the automation engine. */
  sources: EventSources;
  /** Drops every provider's cached webhook secrets (a connection changed). */
  invalidate(): void;
};

export function createProviders(deps: ProviderDeps): ProviderRegistry {
  const list: readonly Provider[] = providerDefinitions.map((d) => d.create(deps));
  const byId = new Map(list.map((p) => [p.id, p]));
  return {
    ...(Object.fromEntries(byId) as { [D in Definitions as D['id']]: ReturnType<D['create']> }),
    list,
    get: (id) => byId.get(id),
    sources: new EventSources(list.map((p) => p.events)),
    invalidate() {
      for (const p of list) p.webhooks.invalidate();
    },
  };
}
