import jsonLogic from 'json-logic-js';
import type { FieldError } from '../../http/errors.ts';
import type { EventFields } from './automation.event.ts';
import { isKnownFieldPath } from './automation.fields.ts';

/**
 * Rule conditions are JSON Logic (json-logic-js) over the normalized event. Validated when a
 * rule is saved: every operator must be a known, safe one and every `var` must name a field
 * of the event catalog. Evaluation reports which top-level condition failed.
 */
export type Condition = unknown;

/**
 * json-logic-js operators allowed in rules. `method` (calls arbitrary methods on values) and
 * `log` (writes to the console) are deliberately left out.
 */
const operators = new Set([
  'var',
  'missing',
  'missing_some',
  'if',
  '?:',
  '==',
  '===',
  '!=',
  '!==',
  '!',
  '!!',
  'or',
  'and',
  '>',
  '>=',
  '<',
  '<=',
  'max',
  'min',
  '+',
  '-',
  '*',
  '/',
  '%',
  'map',
  'filter',
  'reduce',
  'all',
  'none',
  'some',
  'merge',
  'in',
  'cat',
  'substr',
]);
/** Operators whose second and later arguments run with each array element as data. */
const scopedOperators = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

const maxDepth = 32;
const maxNodes = 500;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Accepts the condition as JSON or as a string holding JSON; `null` means "always". */
export function parseConditions(input: unknown): { value: Condition; errors: FieldError[] } {
  if (typeof input !== 'string') return { value: input ?? null, errors: [] };
  try {
    return { value: JSON.parse(input) as unknown, errors: [] };
  } catch (err) {
    return {
      value: null,
      errors: [{ path: 'conditions', message: `not valid JSON: ${(err as Error).message}` }],
    };
  }
}

/** Structural validation of a JSON Logic expression; returns every problem found. */
export function validateConditions(condition: Condition, basePath = 'conditions'): FieldError[] {
  const errors: FieldError[] = [];
  let nodes = 0;

  const checkVarPath = (value: unknown, path: string, scoped: boolean) => {
    if (scoped) return;
    const name = Array.isArray(value) ? value[0] : value;
    if (name === undefined || name === null || name === '') return; // whole data object
    if (typeof name === 'number') {
      errors.push({ path, message: 'a variable must name an event field, not an index' });
      return;
    }
    if (typeof name !== 'string') {
      if (isPlainObject(name))
        walk(name, path, 1, scoped); // computed var name: checked as logic
      else errors.push({ path, message: 'a variable name must be a string' });
      return;
    }
    if (!isKnownFieldPath(name)) errors.push({ path, message: `unknown field "${name}"` });
  };

  const walk = (node: unknown, path: string, depth: number, scoped: boolean): void => {
    nodes += 1;
    if (nodes > maxNodes) {
      if (nodes === maxNodes + 1)
        errors.push({ path: basePath, message: `too large (more than ${maxNodes} nodes)` });
      return;
    }
    if (depth > maxDepth) {
      errors.push({ path, message: `nested too deeply (more than ${maxDepth} levels)` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        walk(item, `${path}.${i}`, depth + 1, scoped);
      });
      return;
    }
    if (!isPlainObject(node)) return; // a literal
    const keys = Object.keys(node);
    if (keys.length !== 1) {
      errors.push({
        path,
        message: `an operation must have exactly one operator, found ${keys.length}`,
      });
      return;
    }
    const op = keys[0] ?? '';
    const args = node[op];
    const argPath = `${path}.${op}`;
    if (!operators.has(op)) {
      errors.push({ path: argPath, message: `unknown operator "${op}"` });
      return;
    }
    if (op === 'var') {
      checkVarPath(args, argPath, scoped);
      if (Array.isArray(args) && args.length > 1) walk(args[1], `${argPath}.1`, depth + 1, scoped);
      return;
    }
    if (op === 'missing' || op === 'missing_some') {
      const list = op === 'missing_some' && Array.isArray(args) ? args[1] : args;
      const names = Array.isArray(list) ? list : [list];
      for (const n of names) if (typeof n === 'string') checkVarPath(n, argPath, scoped);
      return;
    }
    if (scopedOperators.has(op)) {
      if (!Array.isArray(args) || args.length < 2) {
        errors.push({ path: argPath, message: `"${op}" takes an array and an expression` });
        return;
      }
      walk(args[0], `${argPath}.0`, depth + 1, scoped);
      for (let i = 1; i < args.length; i++) walk(args[i], `${argPath}.${i}`, depth + 1, true);
      return;
    }
    walk(args, argPath, depth + 1, scoped);
  };

  walk(condition, basePath, 0, false);
  return errors;
}

export interface ConditionOutcome {
  passed: boolean;
  /**
   * The condition that failed: for a top-level `and`, the first operand that was falsy
   * (with its index), otherwise the whole expression.
   */
  failed: { index: number | null; condition: Condition } | null;
  error: string | null;
}

function apply(condition: Condition, data: EventFields): unknown {
  // The types of json-logic-js are stricter than its runtime (it accepts any JSON).
  return jsonLogic.apply(condition as Parameters<typeof jsonLogic.apply>[0], data);
}

/** Evaluates conditions against the event; `null`/`undefined`/`{}` conditions always pass. */
export function evaluateConditions(condition: Condition, data: EventFields): ConditionOutcome {
  if (
    condition === null ||
    condition === undefined ||
    (isPlainObject(condition) && Object.keys(condition).length === 0)
  )
    return { passed: true, failed: null, error: null };
  try {
    if (isPlainObject(condition) && Array.isArray(condition.and)) {
      const parts: unknown[] = condition.and;
      for (let i = 0; i < parts.length; i++) {
        if (!jsonLogic.truthy(apply(parts[i], data)))
          return { passed: false, failed: { index: i, condition: parts[i] }, error: null };
      }
      return { passed: true, failed: null, error: null };
    }
    const passed = jsonLogic.truthy(apply(condition, data));
    return { passed, failed: passed ? null : { index: null, condition }, error: null };
  } catch (err) {
    return {
      passed: false,
      failed: { index: null, condition },
      error: `condition could not be evaluated: ${(err as Error).message}`,
    };
  }
}
