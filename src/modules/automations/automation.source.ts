import type { FieldError } from '../../http/errors.ts';
import type { ProviderId } from '../integrations/integrations.table.ts';
import type { NormalizedEvent, TriggerScope } from './automation.event.ts';

/**
 * What the automation engine needs from a provider whose events trigger rules
 * (`Provider.events`). The engine itself names no provider: rules, conditions, templates,
 * runs and the dry run go through this contract, and `providers/registry.ts` supplies one
 * per provider.
 *
 * The static half (ids, trigger events, scope rules, normalizing a payload) is pure, so the
 * rule validator and the dry run use it without any I/O.
 */
export interface EventSourceDefinition {
  id: ProviderId;
  /** Events a rule can trigger on: `issue.created`, `page.properties_updated`, ... */
  triggerEvents: readonly string[];
  /** Problems with a trigger's scope for this source (which keys it takes, which it needs). */
  checkScope(scope: TriggerScope): FieldError[];
  /** Whether the trigger's scope covers the event (an empty scope covers the connection). */
  scopeMatches(scope: TriggerScope, event: NormalizedEvent): boolean;
  /**
   * Normalizes a payload as stored in the inbox. `document` is the entity as read back from
   * the provider when its events are sparse (a Notion page); null when it could not be read.
   */
  normalize(payload: unknown, document: unknown): NormalizedEvent | null;
  /** The provider webhook a rule with this scope needs registered (a Linear team); null: none. */
  webhookNeedOf?(scope: TriggerScope): string | null;
  /** Whether a rule may write its items back to the provider (`sync: two_way`, `writeBack`). */
  writesBack?: boolean;
}
