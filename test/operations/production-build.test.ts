import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectOutput, exitOf } from '../../scripts/child-output.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/throwaway-postgres.ts';

/**
 * The artefact a deployer runs: `dist/` from `npm run build`, the migrations and a production
 * install (`npm ci --omit=dev`, what the Dockerfile's runtime stage does) in a directory of
 * its own, with no TypeScript, tsx or sources. The compiled server must start there on both
 * back ends, answer /readyz, and exit 0 on SIGTERM well within SHUTDOWN_TIMEOUT_MS.
 */
const root = process.cwd();
const shutdownTimeoutMs = 5_000;
let installDir: string;

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build-if-needed.mjs'], { cwd: root, stdio: 'inherit' });
  installDir = mkdtempSync(join(tmpdir(), 'monoid-prod-'));
  for (const entry of ['package.json', 'package-lock.json', 'dist', 'migrations'])
    cpSync(join(root, entry), join(installDir, entry), { recursive: true });
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: installDir,
    stdio: ['ignore', 'ignore', 'pipe'], // npm's stderr is in the error if it fails
  });
}, 600_000);

afterAll(() => {
  if (installDir) rmSync(installDir, { recursive: true, force: true });
});

async function startCompiled(env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'monoid-prod-data-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: installDir,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
      ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  collectOutput(child, (text) => {
    output += text;
  });
  const exited = exitOf(child);
  void exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
  const baseUrl = `http://127.0.0.1:${port}`;
  let ready = false;
  for (let i = 0; i < 1200 && !ready && child.exitCode === null; i++) {
    ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) child.kill('SIGKILL');
  return { child, exited, port, baseUrl, ready, output: () => output };
}

async function startAndStop(env: Record<string, string>) {
  const server = await startCompiled(env);
  expect(server.ready, server.output()).toBe(true);
  const health = await fetch(`${server.baseUrl}/healthz`);
  expect(health.status).toBe(200);
  server.child.kill('SIGTERM');
  const began = performance.now();
  const code = await Promise.race([
    server.exited,
    new Promise<'hang'>((r) => setTimeout(() => r('hang'), shutdownTimeoutMs + 5_000)),
  ]);
  if (code === 'hang') server.child.kill('SIGKILL');
  expect(code, server.output()).toBe(0);
  expect(performance.now() - began).toBeLessThan(shutdownTimeoutMs);
  return server.output();
}

describe('the production artefact (compiled, production dependencies only)', () => {
  it('has no development dependency installed', () => {
    for (const dev of ['typescript', 'tsx', 'vitest', 'pino-pretty'])
      expect(existsSync(join(installDir, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(installDir, 'node_modules', 'fastify'))).toBe(true);
  });

  it('starts on the embedded database, answers /readyz and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'monoid-prod-data-'));
    try {
      const output = await startAndStop({ DATA_DIR: dataDir });
      // One JSON line per request in production (no pretty printer, no "incoming request").
      const requestLines = output.split('\n').filter((l) => l.includes('"url":"/healthz"'));
      expect(requestLines).toHaveLength(1);
      expect(JSON.parse(requestLines[0] ?? '{}')).toMatchObject({
        msg: 'request completed',
        res: { statusCode: 200 },
      });
      // A second start on the same data (migrations already applied) works as well.
      await startAndStop({ DATA_DIR: dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('starts on Postgres, answers /readyz and exits 0 on SIGTERM', async (ctx) => {
    let db: TestDatabase | undefined = await createTestDatabase({ migrate: false });
    if (!db.url) {
      await db.destroy();
      db = undefined;
      ctx.skip();
      return;
    }
    try {
      await db.database.close();
      await startAndStop({ DATABASE_URL: db.url, DATA_DIR: join(installDir, '.data') });
    } finally {
      await db.destroy();
    }
  }, 180_000);

  /** A request whose body never finishes keeps the HTTP server from closing. */
  function stuckRequest(port: number) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      'POST /webhooks/linear HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    return socket;
  }

  it('past SHUTDOWN_TIMEOUT_MS exits 1 with a line naming what was still open', async () => {
    const server = await startCompiled({
      SHUTDOWN_TIMEOUT_MS: '1500',
      HTTP_REQUEST_TIMEOUT_MS: '120000',
    });
    expect(server.ready, server.output()).toBe(true);
    const socket = stuckRequest(server.port);
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    const code = await Promise.race([
      server.exited,
      new Promise<'hang'>((r) => setTimeout(() => r('hang'), 30_000)),
    ]);
    socket.destroy();
    if (code === 'hang') server.child.kill('SIGKILL');
    expect(code, server.output()).toBe(1);
    const line = server
      .output()
      .split('\n')
      .find((l) => l.includes('did not finish'));
    expect(line, server.output()).toBeDefined();
    expect(JSON.parse(line ?? '{}').openHandles).toContain('TCPSocketWrap');
  }, 180_000);

  it('a second signal during shutdown exits at once', async () => {
    const server = await startCompiled({
      SHUTDOWN_TIMEOUT_MS: '120000',
      HTTP_REQUEST_TIMEOUT_MS: '120000',
    });
    expect(server.ready, server.output()).toBe(true);
    const socket = stuckRequest(server.port);
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    expect(server.child.exitCode, 'still shutting down after the first signal').toBeNull();
    server.child.kill('SIGTERM');
    const code = await Promise.race([
      server.exited,
      new Promise<'hang'>((r) => setTimeout(() => r('hang'), 30_000)),
    ]);
    socket.destroy();
    if (code === 'hang') server.child.kill('SIGKILL');
    expect(code, server.output()).toBe(1);
    expect(server.output()).toContain('second signal during shutdown');
  }, 180_000);
});
