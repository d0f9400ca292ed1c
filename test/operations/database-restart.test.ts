import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { createTestKey } from '../helpers/api-keys.ts';
import { LogCapture, testConfig } from '../helpers/app.ts';
import {
  startThrowawayPostgres,
  type ThrowawayPostgres,
  throwawayPostgresAvailable,
} from '../helpers/throwaway-postgres.ts';

/**
 * Postgres restarts under traffic: the server stays up, answers 503 (never 500) while the
 * database is gone, and recovers by itself when it is back.
 */
describe.runIf(throwawayPostgresAvailable())('Postgres restart', () => {
  let pg: ThrowawayPostgres;
  let app: FastifyInstance;
  const logs = new LogCapture();

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
    app = await buildApp(testConfig({ DATABASE_URL: pg.url, DATABASE_POOL_SIZE: '4' }), {
      logStream: logs,
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    pg?.destroy();
  });

  it('answers 503 during the outage and recovers without a restart', async () => {
    const before = await app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(200);
    const { key } = await createTestKey(app, { scopes: ['read', 'write'] });
    const auth = { authorization: `Bearer ${key}` };
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/tasks', headers: auth })).statusCode,
    ).toBe(200);

    pg.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      statuses.push(res.statusCode);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
    }
    // API reads and writes fail cleanly too (the key itself is still cached).
    for (const request of [
      { method: 'GET' as const, url: '/api/v1/tasks' },
      {
        method: 'POST' as const,
        url: '/api/v1/containers',
        payload: { name: 'During the outage' },
      },
    ]) {
      const res = await app.inject({ ...request, headers: auth });
      statuses.push(res.statusCode);
      expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
    }
    expect(new Set(statuses)).toEqual(new Set([503]));
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    pg.start();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      recovered = (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered).toBe(true);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/tasks', headers: auth })).statusCode,
    ).toBe(200);
  }, 60_000);
});
