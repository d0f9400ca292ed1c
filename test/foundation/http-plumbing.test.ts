import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

function testRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/__test/echo',
    {
      schema: {
        body: z.object({ name: z.string().min(1), count: z.number().int().optional() }),
        querystring: z.object({ limit: z.coerce.number().int().max(500).optional() }),
      },
    },
    async (request) => ({ data: request.body }),
  );
  r.get('/__test/boom', async () => {
    throw new Error('secret internals: password=hunter2 at db.ts:42');
  });
}

describe('HTTP plumbing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({
      overrides: { extraRoutes: testRoutes },
      env: { BODY_LIMIT_BYTES: '2048' },
    });
  });
  afterAll(async () => t.close());

  it('answers unknown routes with a 404 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      title: 'Not found',
      error: true,
      type: expect.stringContaining('not-found'),
    });
    expect(body.message).toBe(body.detail);
    expect(body.requestId).toBe(res.headers['x-request-id']);
  });

  it('answers malformed JSON with 400 BAD_REQUEST', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/__test/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "x",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'BAD_REQUEST',
      detail: 'The request body is not valid JSON.',
    });
  });

  it('answers validation failures with 400 and errors[] naming each field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/__test/echo',
      payload: { name: '', count: 'many' },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('VALIDATION_ERROR');
    const paths = body.errors.map((e: { path: string }) => e.path).sort();
    expect(paths).toEqual(['body.count', 'body.name']);
    for (const e of body.errors) expect(typeof e.message).toBe('string');
  });

  it('validates the query string as well', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/__test/echo?limit=9999',
      payload: { name: 'a' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].path).toBe('query.limit');
  });

  it('answers oversized bodies with 413 PAYLOAD_TOO_LARGE', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/__test/echo',
      payload: { name: 'x'.repeat(5000) },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a throwing route with a 500 that leaks nothing, logged with the request id', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/__test/boom',
      headers: { 'x-request-id': 'req-boom-1' },
    });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body).toMatchObject({ code: 'INTERNAL', requestId: 'req-boom-1' });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('db.ts');
    const logged = t.logs.records().find((r) => r.requestId === 'req-boom-1' && r.level === 50);
    expect(logged).toBeDefined();
    expect(JSON.stringify(logged)).toContain('secret internals');
  });

  it('echoes a sane incoming X-Request-Id and replaces an insane one', async () => {
    const ok = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(ok.headers['x-request-id']).toBe('abc-123');
    const bad = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'evil\u0000id with spaces'.repeat(20) },
    });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const none = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(none.headers['x-request-id']).not.toBe(bad.headers['x-request-id']);
  });

  it('never logs credentials or signatures', async () => {
    const secrets = {
      authorization: 'Bearer mo_supersecretkeyvalue123',
      cookie: '__session=eyJhbGciOiJSUzI1NiJ9.sessioncookie',
      'svix-signature': 'v1,c3ZpeHNpZ25hdHVyZXZhbHVl',
      'linear-signature': 'deadbeefcafebabe0123456789',
      'x-notion-signature': 'sha256=notionsignaturevalue',
    };
    await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { ...secrets, 'x-request-id': 'redact-1' },
    });
    const lines = t.logs.lines.filter((l) => l.includes('redact-1'));
    expect(lines.length).toBeGreaterThan(0);
    const all = t.logs.text;
    for (const value of Object.values(secrets)) expect(all).not.toContain(value);
    expect(lines.join('\n')).toContain('[Redacted]');
  });
});
