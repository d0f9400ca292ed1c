import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/modules/api-keys/api-key.format.ts';
import { buildTestApp, type TestApp } from '../helpers/app.ts';

// Security findings 8 (/metrics public in production), 9 (credentials in query strings
// written to the logs) and 11 (slow clients kept for ~47-77 s, no cap on connections).

const apps: TestApp[] = [];
afterAll(async () => {
  for (const t of apps) await t.close();
});
async function app(env: Record<string, string>): Promise<TestApp> {
  const t = await buildTestApp({ env });
  apps.push(t);
  return t;
}

describe('/metrics in production', () => {
  const production = { NODE_ENV: 'production', ENCRYPTION_KEY: randomBytes(32).toString('base64') };

  it('is not served without METRICS_TOKEN', async () => {
    const t = await app(production);
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(404);
  });

  it('needs the token when one is set', async () => {
    const token = randomBytes(16).toString('hex');
    const t = await app({ ...production, METRICS_TOKEN: token });
    expect((await t.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    const ok = await t.app.inject({
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('request URLs in logs', () => {
  it('redact query parameters whose name or value looks like a credential', async () => {
    const t = await app({});
    const key = generateApiKey().key;
    const secrets = [
      key,
      'tok-9f8e7d6c5b4a',
      'oauth-code-1a2b3c',
      'state-5d6e7f',
      'sk_live_abcdef123',
    ];
    await t.app.inject({
      url: `/api/v1/me?api_key=${key}&access_token=${secrets[1]}&limit=5`,
    });
    await t.app.inject({ url: `/api/settings/me?code=${secrets[2]}&state=${secrets[3]}` });
    await t.app.inject({ url: `/healthz?q=${secrets[4]}&keep=visible-value` });
    await t.app.inject({ url: `/api/v1/${key}` });
    for (const secret of secrets) expect(t.logs.text).not.toContain(secret);
    expect(t.logs.text).toContain('limit=5');
    expect(t.logs.text).toContain('keep=visible-value');
  });
});

describe('slow and excess connections', () => {
  async function listening(env: Record<string, string>): Promise<number> {
    const t = await app(env);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(socket));
      socket.on('error', reject);
    });
  /** Resolves with what the server sent once it closed the connection (or 'open' after ms). */
  const closedWithin = (socket: Socket, ms: number) =>
    new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
      });
      socket.on('error', () => undefined);
      const timer = setTimeout(() => resolve('open'), ms);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(received || 'closed');
      });
    });

  it('a client that never finishes its headers is dropped with 408', async () => {
    const port = await listening({
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
    });
    const socket = await open(port);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // Generous bound: the old server kept such a client for about 47 s.
    const outcome = await closedWithin(socket, 15_000);
    socket.destroy();
    expect(outcome).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that never finishes its body is dropped', async () => {
    const port = await listening({
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '2000',
    });
    const socket = await open(port);
    socket.write(
      'POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ti',
    );
    const outcome = await closedWithin(socket, 15_000);
    socket.destroy();
    expect(outcome).not.toBe('open');
  });

  it('connections beyond HTTP_MAX_CONNECTIONS are closed at once', async () => {
    const port = await listening({ HTTP_MAX_CONNECTIONS: '2' });
    const first = await open(port);
    const second = await open(port);
    const third = await open(port);
    const outcome = await closedWithin(third, 5_000);
    for (const s of [first, second, third]) s.destroy();
    expect(outcome).toBe('closed');
  });
});
