import fastifyHelmet from '@fastify/helmet';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaderOptions } from '../../src/http/security.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

describe('metrics', () => {
  let open: TestApp;
  let guarded: TestApp;
  const token = 'metrics-operator-token-0123456789';
  beforeAll(async () => {
    // A tiny per-key limit, so one test can see a 429 counted.
    open = await buildTestApp({ env: { API_RATE_LIMIT_PER_MINUTE: '2' } });
    guarded = await buildTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(async () => {
    await open.close();
    await guarded.close();
  });

  it('exposes request latency by route pattern and status', async () => {
    await open.app.inject({ method: 'GET', url: '/healthz' });
    await open.app.inject({ method: 'GET', url: '/nope/123' });
    const res = await open.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(
      /monoid_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/,
    );
    expect(res.body).toContain('route="unmatched",status="404"');
    expect(res.body).not.toContain('/nope/123');
    for (const series of [
      'monoid_api_key_auth_total',
      'monoid_rate_limited_total',
      'monoid_inbox_events',
      'monoid_inbox_oldest_pending_age_seconds',
      'monoid_automation_events_total',
      'monoid_provider_call_duration_seconds',
    ])
      expect(res.body).toContain(`# HELP ${series}`);
  });

  it('counts API-key auth outcomes and rate-limit rejections', async () => {
    const { key } = await createTestKey(open.app, { scopes: ['read'] });
    await open.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${key}` },
    });
    await open.app.inject({ method: 'GET', url: '/api/v1/me' });
    await open.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: 'Bearer mo_nope' },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await open.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${key}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([200, 429]);
    const body = (await open.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('monoid_api_key_auth_total{outcome="ok"} 2');
    expect(body).toContain('monoid_api_key_auth_total{outcome="rate_limited"} 1');
    expect(body).toContain('monoid_rate_limited_total{scope="api"} 1');
    expect(body).toContain('monoid_api_key_auth_total{outcome="missing"} 1');
    expect(body).toContain('monoid_api_key_auth_total{outcome="invalid"} 1');
    expect(body).not.toContain(key);
  });

  it('requires the operator token when one is configured', async () => {
    const none = await guarded.app.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('UNAUTHORIZED');
    const wrong = await guarded.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer wrong-token-wrong-token-00' },
    });
    expect(wrong.statusCode).toBe(401);
    const ok = await guarded.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(guarded.logs.text).not.toContain(token);
  });

  it('can be switched off', async () => {
    const off = await buildTestApp({ env: { METRICS_ENABLED: 'false' } });
    try {
      expect((await off.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe('security headers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t.close());

  it('sets strict headers on API responses', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-frame-options']).toBeDefined();
  });

  it('are exactly what @fastify/helmet sets with the same options, on success and on errors', async () => {
    const reference = Fastify();
    // Cast: @fastify/helmet types its options against its own copy of helmet.
    await reference.register(fastifyHelmet, {
      global: true,
      ...(securityHeaderOptions as Record<string, unknown>),
    });
    reference.get('/healthz', async () => ({ status: 'ok' }));
    const own = (h: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(h).filter(
          ([k]) =>
            !['date', 'content-length', 'content-type', 'x-request-id', 'connection'].includes(k),
        ),
      );
    try {
      const expected = own((await reference.inject({ url: '/healthz' })).headers);
      expect(Object.keys(expected).length).toBeGreaterThan(10);
      expect(own((await t.app.inject({ url: '/healthz' })).headers)).toEqual(expected);
      const unauthenticated = await t.app.inject({ url: '/api/v1/tasks' });
      expect(unauthenticated.statusCode).toBe(401);
      expect(unauthenticated.headers['x-request-id']).toBeDefined();
      for (const [name, value] of Object.entries(expected))
        expect(unauthenticated.headers[name], name).toBe(value);
    } finally {
      await reference.close();
    }
  });

  it('lets the reference page run its own script', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
  });
});
