import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import {
  type Conformance,
  loadConformance,
  type Operation,
} from '../helpers/openapi-conformance.ts';
import { authHeadersFor, fuzzEnv, prepareFuzzAuth } from './fuzz-auth.ts';

/**
 * Every documented route receives hostile input: malformed and deeply nested JSON, wrong
 * types, huge bodies, odd Unicode, invalid UTF-8, injection strings, very long headers and
 * duplicate query parameters. The server must answer each with a non-5xx status, in time,
 * and as its OpenAPI document says (documented status, content type and body schema).
 */
const injection = [
  "' OR 1=1 --",
  "'; DROP TABLE tasks; --",
  '{{constructor.constructor("return process")()}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '${process.exit(1)}',
  '<script>alert(1)</script>',
  '__proto__',
  '{"__proto__":{"polluted":true}}',
  '../../../../etc/passwd',
  '\u0000',
  '%00',
  '\ud800',
  'ＡＢＣ\u202e\u200b',
  '9'.repeat(400),
  '-1',
  'NaN',
  '1e309',
];

function enc(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, percent-encoded: invalid UTF-8 in the URL
  }
}

/**
 * A path segment: "." and ".." are dot-segments that URL resolution removes (RFC 3986 5.2.4),
 * so they would reach another route (`/automations/.` is `/automations/`); sent percent-encoded
 * they reach the `{id}` route as the literal id.
 */
function encSegment(value: string): string {
  const encoded = enc(value);
  return /^\.{1,2}$/.test(encoded) ? encoded.replaceAll('.', '%2E') : encoded;
}

const scalar = fc.oneof(
  fc.constantFrom(...injection),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);

const bodyArb: fc.Arbitrary<{ payload: Buffer | string; contentType?: string }> = fc.oneof(
  fc
    .jsonValue({ maxDepth: 4 })
    .map((v) => ({ payload: JSON.stringify(v) ?? 'null', contentType: 'application/json' })),
  fc
    .dictionary(
      fc.constantFrom(
        'name',
        'title',
        'scopes',
        'expiresAt',
        'bucket',
        'status',
        'date',
        'type',
        'containerId',
        'projectId',
        'organisationId',
        'labelIds',
        'startTime',
        'endTime',
        'dayOfWeek',
        '__proto__',
        'constructor',
      ),
      fc.oneof(
        scalar,
        fc.array(scalar, { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 5 }), scalar),
      ),
    )
    .map((v) => ({ payload: JSON.stringify(v), contentType: 'application/json' })),
  fc.constantFrom(
    { payload: '{"name": "x",', contentType: 'application/json' },
    { payload: '{{{{', contentType: 'application/json' },
    { payload: '', contentType: 'application/json' },
    { payload: '[]', contentType: 'application/json' },
    { payload: '"string"', contentType: 'application/json' },
    { payload: `${'['.repeat(5000)}${']'.repeat(5000)}`, contentType: 'application/json' },
    { payload: `${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}`, contentType: 'application/json' },
    { payload: JSON.stringify({ name: 'x'.repeat(2_000_000) }), contentType: 'application/json' },
    {
      payload: Buffer.from([
        0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d,
      ]),
      contentType: 'application/json',
    },
    { payload: 'name=x&title=y', contentType: 'application/x-www-form-urlencoded' },
    { payload: '<xml/>', contentType: 'application/xml' },
    { payload: 'plain', contentType: 'text/plain' },
    { payload: '{"name":"x"}' },
  ),
);

const queryArb = fc.array(
  fc.tuple(
    fc.constantFrom(
      'limit',
      'offset',
      'bucket',
      'status',
      'organisationId',
      'dates',
      'doDateGte',
      'scheduledAtLte',
      'hasExternalLink',
      'includeMembers',
      'x',
    ),
    fc.oneof(fc.constantFrom(...injection), fc.string({ maxLength: 20 }), fc.integer().map(String)),
  ),
  { maxLength: 6 },
);

const idArb = fc.oneof(
  fc.uuid(),
  fc.constantFrom(...injection.map(encSegment)),
  fc.string({ minLength: 1, maxLength: 30 }).map(encSegment),
  fc.constant('2026-02-30'),
);

describe('bad input on every documented route', () => {
  let t: TestApp;
  let routes: Operation[];
  let conformance: Conformance;
  let tried = 0;

  beforeAll(async () => {
    t = await buildTestApp({ env: fuzzEnv() });
    await prepareFuzzAuth(t);
    conformance = await loadConformance(t.app);
    routes = conformance.operations.filter((op) =>
      ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method),
    );
  }, 120_000);

  afterAll(async () => {
    process.stdout.write(`bad-input suite: ${tried} requests over ${routes.length} routes\n`);
    if (process.env.FUZZ_REPORT)
      writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ tried, routes: routes.length }));
    await t.close();
  });

  it('never answers 5xx, never hangs', async () => {
    expect(routes.length).toBeGreaterThan(0);
    const runs = Number(process.env.FUZZ_RUNS ?? 50);
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(
          bodyArb,
          queryArb,
          idArb,
          fc.boolean(),
          async (body, query, id, longHeader) => {
            const url = route.path.replace(/\{[^}]+\}/g, id);
            const qs = query.map(([k, v]) => `${k}=${enc(v)}`).join('&');
            const headers: Record<string, string> = { ...authHeadersFor(route.path) };
            if (body.contentType) headers['content-type'] = body.contentType;
            if (longHeader) headers['x-request-id'] = 'r'.repeat(8_000);
            const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
            tried++;
            const res = await t.app.inject({
              method: route.method as 'GET',
              url: qs ? `${url}?${qs}` : url,
              headers,
              ...(hasBody ? { payload: body.payload } : {}),
            });
            if (res.statusCode >= 500) {
              throw new Error(
                `${route.method} ${url}?${qs} -> ${res.statusCode}: ${res.body.slice(0, 300)}`,
              );
            }
            expect(res.headers['content-type'] ?? '').not.toBe('');
            conformance.check(route, res);
          },
        ),
        { numRuns: runs, interruptAfterTimeLimit: 60_000 },
      );
    }
  }, 600_000);
});
