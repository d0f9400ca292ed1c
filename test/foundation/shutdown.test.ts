import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { startServerProcess } from '../helpers/server-process.ts';

describe('graceful shutdown', () => {
  it('finishes a request in flight, then closes', async () => {
    let release: () => void = () => undefined;
    const t = await buildTestApp({
      overrides: {
        extraRoutes: (app) => {
          app.get('/__test/slow', async () => {
            await new Promise<void>((resolve) => {
              release = resolve;
            });
            return { done: true };
          });
        },
      },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const inFlight = fetch(`http://127.0.0.1:${port}/__test/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.app.close();
    setTimeout(() => release(), 200);
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await closing;
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await t.db.destroy();
  });

  it('the server process exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'monoid-shutdown-'));
    // On Postgres the process gets a database of its own; embedded, a fresh data directory.
    const db = await createTestDatabase({ migrate: false });
    await db.database.close();
    try {
      const server = await startServerProcess({ DATA_DIR: dataDir, DATABASE_URL: db.url ?? '' });
      server.kill('SIGTERM');
      expect(await server.exited, server.output()).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await db.destroy();
    }
  }, 180_000);

  it('a bad configuration stops the process with a message naming the variable', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      env: { ...process.env, PORT: 'not-a-port', DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('PORT');
  }, 120_000);
});
