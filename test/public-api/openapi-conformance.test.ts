import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.ts';
import { clerkEnv, mintSessionToken } from '../helpers/clerk.ts';
import {
  type Conformance,
  loadConformance,
  type Operation,
} from '../helpers/openapi-conformance.ts';
import { type ApiUser, buildApiTestApp, createApiUser, dataOf } from '../helpers/workspaces.ts';

/**
 * Every operation of /openapi.json, called validly and in each way the shared plumbing refuses
 * (no credentials, missing scope, unknown / malformed / over-long id, malformed JSON, too large,
 * unsupported content type, bad query, reused Idempotency-Key, rate limit, unsupported method):
 * each response's status, content type and body must be what the document says. The bad-input
 * fuzz suite (test/operations/bad-input.test.ts) runs the same check over its responses.
 */
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'TRACE';
interface Call {
  label: string;
  method?: Method;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
  remoteAddress?: string;
  /** Asserted when given; otherwise any documented status passes. */
  expect?: number;
}

const env = {
  ...(clerkEnv() as Record<string, string>),
  BODY_LIMIT_BYTES: '4096',
};
const createBodies: Record<string, (seed: Seeds) => unknown> = {
  organisations: () => ({ id: `team-${randomUUID()}`, name: 'O' }),
  containers: () => ({ name: 'C' }),
  projects: (s) => ({ title: 'P', containerId: s.containers }),
  tasks: () => ({ title: 'T' }),
  categories: () => ({ name: 'Cat', entityType: 'task' }),
  labels: () => ({ name: 'L', entityType: 'task' }),
  routine_blocks: () => ({ dayOfWeek: 3, startTime: '09:00', endTime: '10:00' }),
  reviews: () => ({ date: `2032-${pad(++dayCounter)}`, type: 'daily' }),
  daily_notes: () => ({ date: `2033-${pad(++dayCounter)}`, content: 'x' }),
};
let dayCounter = 0;
const pad = (n: number) =>
  `${String(Math.floor(n / 28) + 1).padStart(2, '0')}-${String((n % 28) + 1).padStart(2, '0')}`;
type Seeds = Record<string, string>;

/** A query parameter that refuses an arbitrary word (an enum, a number), if the op has one. */
function strictQueryParameter(op: Operation): string | undefined {
  return op.parameters.find((p) => {
    if (p.in !== 'query') return false;
    const schema = p.schema as { enum?: unknown; type?: unknown; anyOf?: unknown };
    return schema.enum !== undefined || schema.type === 'integer' || schema.type === 'number';
  })?.name;
}

const resourceOf = (path: string) => /^\/api\/v1\/([a-z_]+)/.exec(path)?.[1];
const scopeFor = (method: string) =>
  method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'write';

describe('the OpenAPI document is the wire', () => {
  let t: TestApp;
  let limited: TestApp;
  let conformance: Conformance;
  let alice: ApiUser;
  let session: string;
  const withoutScope = new Map<string, string>();
  const seeds: Seeds = {};
  const exercised = new Map<string, Set<string>>();

  beforeAll(async () => {
    t = await buildApiTestApp(env);
    limited = await buildApiTestApp({
      ...env,
      API_KEY_FAILURE_LIMIT: '1',
      ADDRESS_RATE_LIMIT_PER_MINUTE: '1',
      WEBHOOK_RATE_LIMIT_PER_MINUTE: '1',
    });
    conformance = await loadConformance(t.app);
    alice = await createApiUser(t.app);
    session = mintSessionToken({
      sub: alice.clerkUserId,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    for (const scope of ['read', 'write', 'delete'] as const) {
      const others = (['read', 'write', 'delete'] as const).filter((s) => s !== scope);
      const k = await createApiUser(t.app, { clerkUserId: alice.clerkUserId, scopes: others });
      withoutScope.set(scope, k.key);
    }
    for (const resource of Object.keys(createBodies)) {
      const created = dataOf<{ _id: string; date?: string }>(
        await alice.request('POST', `/api/v1/${resource}`, createBodies[resource]?.(seeds)),
        201,
      );
      seeds[resource] = resource === 'daily_notes' ? String(created.date) : created._id;
    }
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await limited?.close();
  });

  /** A fresh item's path key for calls that consume it (DELETE, revoke, roll). */
  async function freshKey(op: Operation): Promise<string> {
    const resource = resourceOf(op.path);
    if (resource && createBodies[resource]) {
      const created = dataOf<{ _id: string; date?: string }>(
        await alice.request('POST', `/api/v1/${resource}`, createBodies[resource]?.(seeds)),
        201,
      );
      return resource === 'daily_notes' ? String(created.date) : created._id;
    }
    if (op.path.startsWith('/api/settings/api-keys/'))
      return (await createApiUser(t.app, { clerkUserId: alice.clerkUserId })).keyId;
    if (op.path.includes('{containerId}')) return seeds.containers ?? '';
    return randomUUID();
  }

  function credentials(op: Operation): Record<string, string> {
    if (op.path.startsWith('/api/v1/')) return { authorization: `Bearer ${alice.key}` };
    if (op.path.startsWith('/api/settings/')) return { authorization: `Bearer ${session}` };
    return {};
  }

  function exampleBody(op: Operation): unknown {
    const resource = resourceOf(op.path);
    if (resource && createBodies[resource] && op.method === 'POST')
      return createBodies[resource]?.(seeds);
    if (op.method === 'PATCH' && resource) return {};
    const media = op.requestBody?.content['application/json'];
    return media?.schema?.example ?? {};
  }

  async function callsFor(op: Operation): Promise<Call[]> {
    const isApi = op.path.startsWith('/api/v1/');
    const hasParam = op.path.includes('{');
    const consumes = op.method === 'DELETE' || /\/(revoke|roll)$/.test(op.path);
    const key = hasParam ? (consumes ? await freshKey(op) : await keyFor(op)) : '';
    const url = op.path.replace(/\{[^}]+\}/, key);
    const auth = credentials(op);
    const body = op.requestBody ? JSON.stringify(exampleBody(op)) : undefined;
    const json = { 'content-type': 'application/json' };
    const calls: Call[] = [
      {
        label: 'valid call',
        url,
        headers: { ...auth, ...(body ? json : {}) },
        ...(body ? { payload: body } : {}),
        ...(isApi ? { expect: op.method === 'POST' ? 201 : 200 } : {}),
        ...(['/healthz', '/readyz', '/api/settings/me'].includes(op.path) ? { expect: 200 } : {}),
      },
    ];
    if (op.security?.length)
      calls.push({
        label: 'no credentials',
        url,
        headers: body ? json : {},
        payload: body,
        expect: 401,
      });
    if (isApi)
      calls.push({
        label: 'missing scope',
        url,
        headers: { authorization: `Bearer ${withoutScope.get(scopeFor(op.method))}`, ...json },
        payload: body,
        expect: 403,
      });
    if (hasParam && !op.path.startsWith('/webhooks')) {
      for (const [label, id] of [
        ['unknown id', randomUUID()],
        ['malformed id', 'not-an-id'],
        ['undecodable id', '%zz'],
        ['over-long id', 'x'.repeat(250)],
      ] as const)
        calls.push({
          label,
          url: op.path.replace(/\{[^}]+\}/, id),
          headers: { ...auth, ...(body ? json : {}) },
          payload: body,
          // The router refuses undecodable and over-long ids; /api/v1 answers 404 for any
          // malformed id (its convention); other surfaces may validate ids (400).
          ...(label !== 'unknown id' && (isApi || label !== 'malformed id') ? { expect: 404 } : {}),
        });
    }
    if (op.requestBody && !op.path.startsWith('/webhooks')) {
      calls.push(
        {
          label: 'malformed JSON',
          url,
          headers: { ...auth, ...json },
          payload: '{"a":',
          expect: 400,
        },
        {
          label: 'too large',
          url,
          headers: { ...auth, ...json },
          payload: JSON.stringify({ name: 'x'.repeat(5000) }),
          expect: 413,
        },
        {
          label: 'unsupported content type',
          url,
          headers: { ...auth, 'content-type': 'application/xml' },
          payload: '<a/>',
          expect: 415,
        },
      );
    }
    const strict = strictQueryParameter(op);
    if (strict)
      calls.push({
        label: 'bad query',
        url: `${url}?${strict}=not-valid`,
        headers: auth,
        expect: 400,
      });
    if (isApi && op.method === 'POST') {
      const idempotencyKey = randomUUID();
      calls.push(
        {
          label: 'idempotent first',
          url,
          headers: { ...auth, ...json, 'idempotency-key': idempotencyKey },
          payload: body,
        },
        {
          label: 'idempotency key reused',
          url,
          headers: { ...auth, ...json, 'idempotency-key': idempotencyKey },
          payload: JSON.stringify({ ...(exampleBody(op) as object), other: 1 }),
          expect: 422,
        },
      );
    }
    calls.push({ label: 'unsupported method', method: 'TRACE', url, expect: 405 });
    return calls;
  }

  async function keyFor(op: Operation): Promise<string> {
    const resource = resourceOf(op.path);
    if (resource && seeds[resource]) return seeds[resource] ?? '';
    return freshKey(op);
  }

  function record(op: Operation, res: LightMyRequestResponse, call: Call) {
    const name = `${op.method} ${op.path}`;
    const method = call.method ?? op.method;
    if (method === 'TRACE') return; // path-wide, checked below
    const seen = exercised.get(name) ?? new Set();
    seen.add(String(res.statusCode));
    exercised.set(name, seen);
  }

  it('every operation: valid call and shared refusals match the document', async () => {
    expect(conformance.operations.length).toBeGreaterThan(80);
    const failures: string[] = [];
    for (const op of conformance.operations) {
      for (const call of await callsFor(op)) {
        const res = await t.app.inject({
          method: call.method ?? (op.method as Method),
          url: call.url,
          headers: call.headers ?? {},
          ...(call.payload !== undefined && (call.method ?? op.method) !== 'GET'
            ? { payload: call.payload }
            : {}),
        });
        record(op, res, call);
        try {
          conformance.check(op, res);
          if (call.expect !== undefined && res.statusCode !== call.expect)
            throw new Error(
              `expected ${call.expect}, got ${res.statusCode}: ${res.body.slice(0, 200)}`,
            );
        } catch (err) {
          failures.push(`${op.method} ${op.path} [${call.label}]: ${(err as Error).message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('rate limits (429) match the document on every surface', async () => {
    const failures: string[] = [];
    let address = 0;
    for (const op of conformance.operations) {
      if (!op.responses['429']) continue;
      address++;
      const remoteAddress = `10.9.${Math.floor(address / 250)}.${(address % 250) + 1}`;
      const url = op.path.replace(/\{[^}]+\}/, randomUUID());
      let res: LightMyRequestResponse | undefined;
      for (let i = 0; i < 3; i++)
        res = await limited.app.inject({ method: op.method as Method, url, remoteAddress });
      if (!res) continue;
      record(op, res, { label: '429', url });
      try {
        conformance.check(op, res);
        if (res.statusCode !== 429) throw new Error(`expected 429, got ${res.statusCode}`);
        if (!res.headers['retry-after']) throw new Error('no Retry-After');
      } catch (err) {
        failures.push(`${op.method} ${op.path}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('each documented shared refusal was exercised on every operation', () => {
    const missing: string[] = [];
    for (const op of conformance.operations) {
      if (op.path.startsWith('/webhooks')) continue;
      const isApi = op.path.startsWith('/api/v1/');
      const expected = [
        op.security?.length ? '401' : undefined,
        op.responses['429'] ? '429' : undefined,
        op.path.includes('{') ? '404' : undefined,
        op.requestBody ? '413' : undefined,
        op.requestBody ? '415' : undefined,
        op.requestBody || strictQueryParameter(op) ? '400' : undefined,
        isApi ? '403' : undefined,
        isApi && op.method === 'POST' ? '422' : undefined,
      ].filter((s): s is string => s !== undefined && op.responses[s] !== undefined);
      const seen = exercised.get(`${op.method} ${op.path}`) ?? new Set();
      for (const status of expected)
        if (!seen.has(status)) missing.push(`${op.method} ${op.path} ${status}`);
    }
    expect(missing).toEqual([]);
  });
});
