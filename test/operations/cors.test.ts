import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.ts';
import { clerkEnv } from '../helpers/clerk.ts';

describe('CORS', () => {
  let t: TestApp;
  const ui = 'https://app.monoid.example';
  beforeAll(async () => {
    t = await buildTestApp({ env: { ...clerkEnv(), CORS_ORIGINS: `${ui},http://localhost:5173` } });
  });
  afterAll(async () => t.close());

  const preflight = (url: string, origin: string) =>
    t.app.inject({
      method: 'OPTIONS',
      url,
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });

  it('lets the configured settings UI origins call /api/settings with credentials', async () => {
    const res = await preflight('/api/settings/api-keys', ui);
    expect(res.statusCode).toBeLessThan(300);
    expect(res.headers['access-control-allow-origin']).toBe(ui);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    const get = await t.app.inject({
      method: 'GET',
      url: '/api/settings/me',
      headers: { origin: ui },
    });
    expect(get.headers['access-control-allow-origin']).toBe(ui);
  });

  it('gives other origins no CORS grant', async () => {
    const res = await preflight('/api/settings/api-keys', 'https://evil.example');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('never grants browsers access to /api/v1 or the webhooks', async () => {
    for (const url of ['/api/v1/tasks', '/webhooks/linear']) {
      const res = await preflight(url, ui);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});
