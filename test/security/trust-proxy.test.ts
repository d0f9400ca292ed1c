import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.ts';
import { buildTestApp, type TestApp, testConfig } from '../helpers/app.ts';

// Security finding 2: TRUST_PROXY=true believed every X-Forwarded-For entry, the left-most of
// which the client writes, so rotating it defeated every per-address limit.

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.close();
});

async function appWith(trustProxy: string): Promise<TestApp> {
  const t = await buildTestApp({
    env: { TRUST_PROXY: trustProxy, ADDRESS_RATE_LIMIT_PER_MINUTE: '2' },
    overrides: {
      extraRoutes: (app) => {
        app.get('/test/client-address', async (request) => ({ ip: request.ip }));
      },
    },
  });
  apps.push(t);
  return t;
}

/** What the load balancer forwards: the client's own header, then the address it saw. */
const forwarded = (forged: string, seen: string) => `${forged}, ${seen}`;

const addressOf = async (t: TestApp, remoteAddress: string, xff?: string) =>
  (
    await t.app.inject({
      url: '/test/client-address',
      remoteAddress,
      headers: xff ? { 'x-forwarded-for': xff } : {},
    })
  ).json().ip as string;

describe('TRUST_PROXY', () => {
  it('refuses true, naming the accepted forms', () => {
    expect(() => testConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    try {
      testConfig({ TRUST_PROXY: 'true' });
    } catch (err) {
      expect(String((err as Error).message)).toMatch(/TRUST_PROXY.*false, a hop count.*CIDRs/s);
    }
    expect(() => testConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow(ConfigError);
    expect(() => testConfig({ TRUST_PROXY: 'yes' })).toThrow(ConfigError);
  });

  it('false (default): X-Forwarded-For is ignored', async () => {
    const t = await appWith('false');
    expect(await addressOf(t, '203.0.113.9', '198.51.100.1')).toBe('203.0.113.9');
  });

  it('a hop count: only the entries the proxies added are believed', async () => {
    const t = await appWith('1');
    expect(await addressOf(t, '127.0.0.1', forwarded('198.51.100.1', '203.0.113.7'))).toBe(
      '203.0.113.7',
    );
    // A forged address rotated on every request does not escape the per-address limit.
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.app.inject({
        url: '/api/settings/me',
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': forwarded(`198.51.100.${i + 1}`, '203.0.113.8') },
      });
      codes.push(res.statusCode);
    }
    expect(codes.slice(2)).toEqual([429, 429]);
  });

  it('a list of proxies/CIDRs: the right-most untrusted address is the client', async () => {
    const t = await appWith('127.0.0.1, 192.0.2.0/24');
    expect(await addressOf(t, '127.0.0.1', '198.51.100.1, 203.0.113.5, 192.0.2.10')).toBe(
      '203.0.113.5',
    );
    // A client that is not one of the proxies cannot speak for anyone else.
    expect(await addressOf(t, '203.0.113.6', '198.51.100.1')).toBe('203.0.113.6');
  });
});
