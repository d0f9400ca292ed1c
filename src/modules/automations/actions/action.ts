import { z } from 'zod';
import type { FieldError } from '../../../http/errors.ts';
import type { Effect, EffectContext } from '../automation.effects.ts';
import type { NormalizedEvent } from '../automation.event.ts';
import { validateTemplate } from '../automation.templates.ts';

/**
 * One automation action, in one file: its shape (zod, also the OpenAPI document), what saving
 * checks beyond the shape, what it plans for an event (pure, shared by the worker and the dry
 * run) and how it applies a plan (or describes it, dry). `actions/registry.ts` lists them.
 */
export interface ActionDefinition<
  S extends z.ZodObject<{ type: z.ZodLiteral<string> }>,
  P extends { type: string },
> {
  type: z.infer<S>['type'];
  schema: S;
  validate(action: z.infer<S>, at: string): FieldError[];
  plan(action: z.infer<S>, event: NormalizedEvent, warnings: string[]): P;
  apply(ctx: EffectContext, planned: P): Promise<Effect[]>;
}

export function defineAction<
  S extends z.ZodObject<{ type: z.ZodLiteral<string> }>,
  P extends { type: string },
>(definition: ActionDefinition<S, P>): ActionDefinition<S, P> {
  return definition;
}

export const template = z
  .string()
  .min(1)
  .max(2000)
  .describe('Text with {{field}} placeholders filled from the normalized event');

export function checkTemplate(value: string | null | undefined, path: string): FieldError[] {
  return value === null || value === undefined ? [] : validateTemplate(value, path);
}

/** A value from `allowed`, or a template that renders to one. */
export function checkEnumOrTemplate(
  value: string | null | undefined,
  allowed: readonly string[],
  path: string,
): FieldError[] {
  if (value === null || value === undefined) return [];
  if (value.includes('{{')) return validateTemplate(value, path);
  return allowed.includes(value)
    ? []
    : [{ path, message: `must be one of ${allowed.join(', ')} or a template` }];
}
