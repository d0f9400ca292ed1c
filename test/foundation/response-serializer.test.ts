import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { safeEncode } from 'zod/v4/core';
import { problemBody, problemSchema } from '../../src/http/errors.ts';
import { fastSchemaOf, serializerCompiler } from '../../src/http/response-serializer.ts';
import { meSchema } from '../../src/modules/api-keys/api-keys.schemas.ts';
import {
  exampleTask,
  taskListResponse,
  taskResponse,
} from '../../src/modules/tasks/tasks.schemas.ts';

const serializerFor = (schema: z.ZodType) =>
  serializerCompiler({ schema, method: 'GET', url: '/test', httpStatus: '200' });
const zodJson = (schema: z.ZodType, data: unknown) => {
  const result = safeEncode(schema, data);
  if (result.error) throw result.error;
  return JSON.stringify(result.data);
};

/** Strings JSON.stringify escapes, or writes as they are, in every way it can. */
const awkward = [
  '',
  'plain',
  'quote " and backslash \\ and slash /',
  'controls \u0000 \u0001 \b \f \n \r \t \u001f',
  'lone surrogates \ud800 and \udfff, a pair 😀',
  'é ü ß ✓ 漢字 \u2028 \u2029',
  'x'.repeat(41),
  `${'long '.repeat(1200)}"`,
];

describe('response serializer (fast-json-stringify where it writes what zod writes)', () => {
  it('writes a page of tasks byte for byte as zod does, unknown keys dropped', () => {
    const serialize = serializerFor(taskListResponse);
    const data = {
      data: awkward.map((title, i) => ({
        ...exampleTask,
        title,
        notes: i % 2 ? null : title,
        inboxTriage: i % 3 ? null : 'this_week',
        scheduledAt: i % 2 ? 1764201600000 + i : null,
        labelIds: [title, 'b'],
        externalLinks: i % 2 ? [] : exampleTask.externalLinks,
        secretHash: 'must not be written',
      })),
    };
    const json = serialize(data);
    expect(json).toBe(zodJson(taskListResponse, data));
    expect(json).not.toContain('secretHash');
    expect(JSON.parse(json).data[3].title).toBe(awkward[3]);
  });

  it('writes problems (with and without field errors) and the /me body as zod does', () => {
    const problem = problemBody({
      code: 'VALIDATION_ERROR',
      status: 400,
      detail: 'Invalid request: body.title "x\u0000"',
      requestId: 'r-1',
      errors: [{ path: 'body.title', message: 'must not contain NUL characters' }],
    });
    for (const data of [problem, { ...problem, errors: undefined }]) {
      expect(serializerFor(problemSchema)(data)).toBe(zodJson(problemSchema, data));
    }
    const me = z.object({ data: meSchema });
    expect(fastSchemaOf(me)).toBeDefined();
    expect(fastSchemaOf(taskResponse)).toBeDefined();
  });

  it('leaves to zod what fast-json-stringify would write differently', () => {
    const fallbacks = {
      transform: z.object({ at: z.string().transform((s) => s.length) }),
      codec: z.object({
        at: z.codec(z.iso.datetime(), z.date(), {
          decode: (s) => new Date(s),
          encode: (d) => d.toISOString(),
        }),
      }),
      default: z.object({ n: z.number().default(1) }),
      union: z.object({ v: z.union([z.string(), z.number()]) }),
      record: z.record(z.string(), z.number()),
      loose: z.looseObject({ a: z.string() }),
      tuple: z.tuple([z.string(), z.number()]),
    };
    for (const [name, schema] of Object.entries(fallbacks)) {
      expect(fastSchemaOf(schema), name).toBeUndefined();
    }
    // Through the compiler, a codec is still encoded (zod's serializer).
    const at = new Date('2026-12-01T00:00:00.000Z');
    expect(serializerFor(fallbacks.codec)({ at })).toBe('{"at":"2026-12-01T00:00:00.000Z"}');
    expect(serializerFor(fallbacks.loose)({ a: 'x', b: 1 })).toBe('{"a":"x","b":1}');
  });

  it('refuses a response missing a required field (a 500, never a partial body)', () => {
    const { _id: _, ...withoutId } = exampleTask;
    expect(() => serializerFor(taskResponse)({ data: withoutId })).toThrow();
  });
});
