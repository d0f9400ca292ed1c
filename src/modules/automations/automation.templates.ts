import type { FieldError } from '../../http/errors.ts';
import type { EventFields } from './automation.event.ts';
import { isKnownFieldPath, readFieldPath } from './automation.fields.ts';

/**
 * Templates fill an action's fields from the event: `"[{{identifier}}] {{title}}"`.
 * A placeholder is `{{ path }}` or `{{ path | fallback text }}`. A template that is exactly
 * one placeholder keeps the value's type (a date stays a date string, labels stay a list);
 * otherwise values are joined into text (lists with ", ", null as the fallback or "").
 */
const placeholder = /\{\{\s*([^{}|]*?)\s*(?:\|\s*([^{}]*?)\s*)?\}\}/g;

export interface TemplatePart {
  path: string;
  fallback: string | null;
}

export function templatePlaceholders(template: string): TemplatePart[] {
  return [...template.matchAll(placeholder)].map((m) => ({
    path: m[1] ?? '',
    fallback: m[2] ?? null,
  }));
}

/** Unknown fields, empty placeholders and unbalanced braces, each as a field error. */
export function validateTemplate(template: string, path: string): FieldError[] {
  const errors: FieldError[] = [];
  for (const part of templatePlaceholders(template)) {
    if (part.path === '') errors.push({ path, message: 'empty placeholder {{}}' });
    else if (!isKnownFieldPath(part.path))
      errors.push({ path, message: `unknown field "${part.path}" in template` });
  }
  const rest = template.replace(placeholder, '');
  if (rest.includes('{{') || rest.includes('}}'))
    errors.push({ path, message: 'unbalanced "{{" or "}}" in template' });
  return errors;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(asText).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Renders a template against the event (validated templates never name unknown fields). */
export function renderTemplate(template: string, fields: EventFields): unknown {
  const whole = /^\{\{\s*([^{}|]*?)\s*(?:\|\s*([^{}]*?)\s*)?\}\}$/.exec(template);
  if (whole) {
    const value = readFieldPath(fields, whole[1] ?? '');
    if (value === null || value === '' || (Array.isArray(value) && value.length === 0))
      return whole[2] ?? null;
    return value;
  }
  return template.replace(placeholder, (_m, path: string, fallback: string | undefined) => {
    const text = asText(readFieldPath(fields, path));
    return text === '' ? (fallback ?? '') : text;
  });
}

/** Renders to text (null when empty). */
export function renderText(template: string | null | undefined, fields: EventFields) {
  if (template === null || template === undefined) return null;
  const text = asText(renderTemplate(template, fields)).trim();
  return text === '' ? null : text;
}

/** A calendar date (YYYY-MM-DD) from a date or date-time; null otherwise. */
export function toCalendarDate(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2})(?:$|T)/.exec(value.trim());
  return m ? (m[1] ?? null) : null;
}
