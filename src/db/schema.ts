/**
 * The schema index: every table of every feature, re-exported so the typed query builder
 * sees one schema. Tables live next to their feature in `*.table.ts` (drizzle-kit reads those
 * files directly, see drizzle.config.ts).
 */

export * from '../modules/automations/automations.table.ts';
export * from '../modules/identity/identity.table.ts';
export * from '../modules/integrations/integrations.table.ts';
